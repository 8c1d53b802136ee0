// Tiny DOM helpers. Every string goes in as a text node or an attribute value, never as markup:
// server and model text reaches the page only through these.

export type AttrValue = string | number | boolean | null | undefined;

export interface ElementProps {
  class?: string;
  /** Attributes; `false`, `null` and `undefined` leave the attribute out, `true` sets it empty. */
  attrs?: Record<string, AttrValue>;
  text?: string;
}

export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  children: readonly Child[] = [],
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.attrs) setAttrs(el, props.attrs);
  if (props.text !== undefined) el.textContent = props.text;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** Sets (or leaves out) each attribute, touching only those that change: writing an attribute, even its own value,
 * makes the browser recompute styles, so a view that renders often or that a click renders must not. */
export function setAttrs(el: Element, attrs: Record<string, AttrValue>): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) {
      if (el.hasAttribute(name)) el.removeAttribute(name);
      continue;
    }
    const text = value === true ? "" : String(value);
    if (el.getAttribute(name) !== text) el.setAttribute(name, text);
  }
}

/** Sets text only when it changed, so a ticking view does not churn the DOM. */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Collects teardown work for one view so a single call undoes everything it set up. */
export class Scope {
  private readonly cleanups: Array<() => void> = [];
  private disposed = false;

  add(cleanup: () => void): void {
    if (this.disposed) cleanup();
    else this.cleanups.push(cleanup);
  }

  listen<K extends keyof HTMLElementEventMap>(
    target: HTMLElement,
    type: K,
    handler: (event: HTMLElementEventMap[K]) => void,
    options?: AddEventListenerOptions,
  ): void;
  listen(target: EventTarget, type: string, handler: (event: Event) => void, options?: AddEventListenerOptions): void;
  listen(target: EventTarget, type: string, handler: (event: never) => void, options?: AddEventListenerOptions): void {
    const listener = handler as EventListener;
    target.addEventListener(type, listener, options);
    this.add(() => target.removeEventListener(type, listener, options));
  }

  interval(fn: () => void, ms: number): void {
    const id = setInterval(fn, ms);
    this.add(() => clearInterval(id));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Undo in reverse order of setup, like nested try/finally.
    for (const cleanup of this.cleanups.reverse()) cleanup();
    this.cleanups.length = 0;
  }
}
