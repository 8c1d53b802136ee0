// Send a typed message to the model (Enter sends).
import type { ViewContext } from "./context";
import { h, setAttrs } from "./dom";

export function createComposer(ctx: ViewContext): HTMLElement {
  const { controller, scope } = ctx;
  const input = h("input", {
    class: "rtw-input",
    attrs: {
      type: "text",
      "data-testid": "text-input",
      "aria-label": "Message to the assistant",
      placeholder: "Type a message…",
      autocomplete: "off",
      enterkeyhint: "send",
    },
  });
  const send = h("button", { class: "rtw-btn rtw-btn-primary", attrs: { type: "submit", "data-testid": "send" }, text: "Send" });
  const form = h("form", { class: "rtw-composer", attrs: { "aria-label": "Send a message" } }, [input, send]);

  function render(): void {
    const connected = controller.status === "connected";
    setAttrs(send, { disabled: !connected });
    setAttrs(input, { placeholder: connected ? "Type a message…" : "Connect to send a message" });
  }

  scope.listen(form, "submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (text === "") return;
    if (controller.sendText(text)) input.value = "";
  });
  scope.add(controller.on("status", render));
  render();
  return form;
}
