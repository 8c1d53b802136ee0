// Send a typed message to the model (Enter sends).
import type { ViewContext } from "./context";
import { h, setAttrs } from "./dom";

export function createComposer(ctx: ViewContext): HTMLElement {
  const { controller, shown, scope } = ctx;
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
  const sendButton = h("button", { class: "rtw-btn rtw-btn-primary", attrs: { type: "submit", "data-testid": "send" }, text: "Send" });
  const form = h("form", { class: "rtw-composer", attrs: { "aria-label": "Send a message" } }, [input, sendButton]);

  function render(): void {
    const connected = shown.current === "connected";
    setAttrs(sendButton, { disabled: !connected });
    setAttrs(input, { placeholder: connected ? "Type a message…" : "Connect to send a message" });
  }

  function send(): void {
    const text = input.value.trim();
    if (text === "") return;
    if (controller.sendText(text)) input.value = "";
  }
  scope.listen(form, "submit", (e) => {
    e.preventDefault();
    send();
  });
  // Hosts like JupyterLab bind Enter to their own commands and cancel the browser's implicit form submission,
  // so Enter is handled here rather than left to the form. (Not while an IME is composing text.)
  scope.listen(input, "keydown", (e) => {
    if (e.key !== "Enter" || e.isComposing || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    send();
  });
  scope.add(shown.on(render));
  render();
  return form;
}
