// The replay view's behaviour: waveforms drawn from peaks fetched for the window on screen, marks laid out on the
// same axis, a playhead that moves while playing. Click anywhere on the tracks to play from there; space plays
// and pauses; arrows step 5 s; +/- and ctrl+wheel zoom; shift+wheel or a horizontal scroll pans.
import { h, Scope, setText } from "../ui/dom";
import { buildElements, SIDES, type ReplayElements } from "./layout";
import { MarksView } from "./marksView";
import { drawPeaks } from "./peaks";
import { Player } from "./player";
import * as axis from "./timeAxis";
import type { View } from "./timeAxis";
import type { Overview, ReplayKernel, Side } from "./wire";

const STEP_S = 5;

export function mountReplay(el: HTMLElement, kernel: ReplayKernel, title: string): () => void {
  const note = h("p", { class: "rtw-replay-note", attrs: { "data-testid": "note", role: "status" } });
  const root = h(
    "div",
    { class: "rtw-replay", attrs: { tabindex: 0, "data-testid": "replay", "data-state": "loading" } },
    [h("p", { class: "rtw-replay-loading", text: "Loading the session…" }), note],
  );
  el.append(root);
  let view: ReplayView | null = null;
  let disposed = false;
  kernel.overview().then(
    (overview) => {
      if (disposed) return;
      root.replaceChildren();
      view = new ReplayView(root, kernel, overview, title);
    },
    (error: unknown) => {
      root.dataset["state"] = "failed";
      setText(note, `Could not load the session for replay: ${error instanceof Error ? error.message : String(error)}`);
    },
  );
  return () => {
    disposed = true;
    view?.dispose();
    root.remove();
  };
}

class ReplayView {
  private readonly scope = new Scope();
  private readonly ui: ReplayElements;
  private readonly marks: MarksView;
  private readonly player: Player;
  private readonly duration: number;
  private readonly withAudio: ReadonlySet<Side>;
  private view: View;
  private readonly peaks = new Map<Side, Int16Array>();
  private peaksView: View;
  private peaksRequest = 0;
  private frame = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly kernel: ReplayKernel,
    overview: Overview,
    title: string,
  ) {
    this.duration = overview.duration;
    this.withAudio = new Set(overview.sides.map((s) => s.side));
    this.view = axis.fullView(this.duration);
    this.peaksView = this.view;
    this.ui = buildElements(root, title, this.withAudio);
    if (this.withAudio.size === 0) {
      this.ui.note.textContent = "This session has no recorded audio: its marks are shown without sound.";
    }
    this.marks = new MarksView(overview.marks, this.ui);
    this.player = new Player(kernel, this.duration, () => {
      this.refresh();
      this.followPlayback();
    });
    this.scope.add(() => this.player.dispose());
    this.scope.add(() => cancelAnimationFrame(this.frame));
    this.bindPointer();
    this.bindKeys();
    const observer = new ResizeObserver(() => this.resize());
    observer.observe(this.ui.tracks);
    this.scope.add(() => observer.disconnect());
    this.resize();
  }

  dispose(): void {
    this.scope.dispose();
  }

  private width(): number {
    return this.ui.tracks.clientWidth;
  }

  private setView(next: View): void {
    this.view = axis.clampView(next, this.duration);
    this.root.dataset["viewStart"] = this.view.start.toFixed(3);
    this.root.dataset["viewEnd"] = this.view.end.toFixed(3);
    this.marks.layout(this.view, this.width());
    this.drawRuler();
    this.drawWaves();
    this.refresh();
    void this.fetchPeaks();
  }

  private resize(): void {
    const ratio = window.devicePixelRatio || 1;
    for (const side of SIDES) {
      const canvas = this.ui.canvases[side];
      canvas.width = Math.max(1, Math.round(canvas.clientWidth * ratio));
      canvas.height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    }
    this.setView(this.view);
  }

  /** Playback state, time, and the playhead's position; cheap, so it runs every frame while playing. */
  private refresh(): void {
    const { play, time, note, playhead } = this.ui;
    const player = this.player;
    const t = player.currentTime;
    this.root.dataset["state"] = player.state;
    this.root.dataset["currentTime"] = t.toFixed(3);
    setText(play, player.state === "paused" ? "▶ Play" : "❚❚ Pause");
    play.setAttribute("aria-pressed", String(player.state !== "paused"));
    setText(time, `${axis.formatTime(t)} / ${axis.formatTime(this.duration)}`);
    if (player.lastError) setText(note, player.lastError);
    const x = axis.timeToX(t, this.view, this.width());
    playhead.hidden = x < 0 || x > this.width();
    playhead.style.transform = `translateX(${x}px)`;
  }

  private drawRuler(): void {
    const width = this.width();
    const step = axis.tickStep(this.view, width);
    const ticks = axis.ticks(this.view, step).map((t) => {
      const tick = h("span", { class: "rtw-replay-tick", text: axis.formatTime(t, step < 1) });
      tick.style.left = `${axis.timeToX(t, this.view, width)}px`;
      return tick;
    });
    this.ui.ruler.replaceChildren(...ticks);
  }

  private drawWaves(): void {
    const style = getComputedStyle(this.root);
    for (const side of SIDES) {
      const canvas = this.ui.canvases[side];
      const context = canvas.getContext("2d");
      if (context === null) continue;
      context.setTransform(1, 0, 0, 1, 0, 0);
      context.clearRect(0, 0, canvas.width, canvas.height);
      const data = this.peaks.get(side);
      if (data === undefined) continue;
      // Peaks fetched for an older window are stretched into place until the ones for this window arrive.
      const scale = axis.span(this.peaksView) / axis.span(this.view);
      context.setTransform(scale, 0, 0, 1, axis.timeToX(this.peaksView.start, this.view, canvas.width), 0);
      const color = style.getPropertyValue(`--rtw-replay-${side}`).trim() || "#888";
      drawPeaks(context, data, canvas.height, 1, color);
    }
  }

  private async fetchPeaks(): Promise<void> {
    const request = ++this.peaksRequest;
    const asked = this.view;
    const columns = this.ui.canvases.user.width;
    if (columns <= 1 || this.withAudio.size === 0) return;
    try {
      const reply = await this.kernel.peaks(asked.start, asked.end, columns);
      if (request !== this.peaksRequest) return; // a newer window was asked for meanwhile
      this.peaks.clear();
      for (const [side, data] of reply) this.peaks.set(side, data);
      this.peaksView = asked;
      this.root.dataset["peaksDrawn"] = String(request);
      this.drawWaves();
    } catch (error) {
      if (request === this.peaksRequest) {
        setText(this.ui.note, `Could not draw the waveforms: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  /** Moves the playhead every frame while playing (and only then: a paused view costs nothing), paging the
   * window along when the playhead runs off its edge. */
  private followPlayback(): void {
    if (this.frame !== 0 || this.player.state === "paused") return;
    const step = (): void => {
      this.frame = 0;
      this.player.tick();
      if (this.player.state === "paused") return;
      const followed = axis.followView(this.view, this.player.currentTime, this.duration);
      if (followed !== this.view) this.setView(followed);
      else this.refresh();
      this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }

  private zoom(factor: number, anchor = this.player.currentTime): void {
    this.setView(axis.zoomView(this.view, factor, anchor, this.duration));
  }

  private bindPointer(): void {
    const { tracks, play, zoomIn, zoomOut, fit } = this.ui;
    const timeAt = (clientX: number): number => {
      const box = tracks.getBoundingClientRect();
      return axis.xToTime(clientX - box.left, this.view, box.width);
    };
    this.scope.listen(tracks, "click", (event: MouseEvent) => {
      this.root.focus({ preventScroll: true }); // so space works next
      void this.player.playFrom(timeAt(event.clientX));
    });
    this.scope.listen(play, "click", () => this.player.toggle());
    this.scope.listen(zoomIn, "click", () => this.zoom(0.5));
    this.scope.listen(zoomOut, "click", () => this.zoom(2));
    this.scope.listen(fit, "click", () => this.setView(axis.fullView(this.duration)));
    const onWheel = (event: WheelEvent): void => {
      if (event.ctrlKey || event.metaKey) {
        event.preventDefault();
        this.zoom(event.deltaY > 0 ? 1.25 : 0.8, timeAt(event.clientX));
      } else if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
        // Horizontal scrolling pans; plain vertical scrolling is left to the notebook.
        event.preventDefault();
        const delta = event.shiftKey ? event.deltaY : event.deltaX;
        const seconds = (delta / Math.max(this.width(), 1)) * axis.span(this.view);
        this.setView(axis.panView(this.view, seconds, this.duration));
      }
    };
    this.scope.listen(tracks, "wheel", onWheel, { passive: false });
  }

  private bindKeys(): void {
    this.scope.listen(this.root, "keydown", (event: KeyboardEvent) => {
      if (event.target !== this.root && event.key === " ") return; // a focused button takes its own space
      if (!this.handleKey(event.key)) return;
      // JupyterLab would otherwise take space, arrows and +/- as notebook shortcuts.
      event.preventDefault();
      event.stopPropagation();
    });
  }

  private handleKey(key: string): boolean {
    switch (key) {
      case " ":
        this.player.toggle();
        return true;
      case "ArrowLeft":
      case "ArrowRight":
        this.player.seek(this.player.currentTime + (key === "ArrowLeft" ? -STEP_S : STEP_S));
        return true;
      case "Home":
        this.player.seek(0);
        return true;
      case "+":
      case "=":
        this.zoom(0.5);
        return true;
      case "-":
        this.zoom(2);
        return true;
      default:
        return false;
    }
  }
}
