// Watch it train: one clock for every panel of one or two runs, played in the browser.
// The server sends the panels' first drawing and every frame's numbers once; playing,
// stepping and scrubbing only restyle the Plotly panels here, with no round trip.

const CSS = `
.bnw { container-type: inline-size; font-family: "Source Sans Pro", sans-serif; }
.bnw-bar { display: flex; align-items: center; gap: 6px; flex-wrap: wrap; margin: 0 0 4px 0; }
.bnw-bar button { min-width: 40px; height: 36px; border: 1px solid #C8D4E3; border-radius: 8px;
  background: #fff; font-size: 16px; cursor: pointer; color: #222; }
.bnw-bar button.bnw-play { min-width: 64px; background: #0072B2; color: #fff; border-color: #0072B2; }
.bnw-bar input[type=range] { flex: 1 1 200px; min-width: 120px; height: 28px; accent-color: #0072B2; }
.bnw-bar select { height: 36px; border: 1px solid #C8D4E3; border-radius: 8px; background: #fff; }
.bnw-step { font-variant-numeric: tabular-nums; min-width: 150px; font-size: 14px; color: #333; }
.bnw-grid { display: grid; gap: 2px 6px; grid-template-columns: 92px repeat(5, minmax(0, 1fr)); }
.bnw-grid > * { grid-column: var(--dc); grid-row: var(--dr); min-width: 0; }
.bnw-head { font-size: 13px; font-weight: 600; color: #333; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; align-self: end; }
.bnw-label { font-size: 13px; font-weight: 600; align-self: center; line-height: 1.25; }
.bnw-label small { display: block; font-weight: 400; color: #555; }
.bnw-plot { height: 170px; }
@container (max-width: 700px) {
  .bnw-grid { grid-template-columns: repeat(var(--runs), minmax(0, 1fr)); }
  .bnw-grid > * { grid-column: var(--mc); grid-row: var(--mr); }
  .bnw-head { margin-top: 8px; }
  .bnw-plot { height: 190px; }
  .bnw-bar button { min-width: 48px; height: 48px; font-size: 20px; }
  .bnw-bar button.bnw-play { min-width: 88px; }
  .bnw-bar input[type=range] { flex-basis: 100%; order: 9; height: 40px; }
  .bnw-bar select { height: 48px; }
}
`;

function loadPlotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__bnvizPlotly) {
    window.__bnvizPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error("Plotly could not be loaded"));
      document.head.appendChild(script);
    });
  }
  return window.__bnvizPlotly;
}

function decode(text, type) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return type === "u8" ? bytes : new Float32Array(bytes.buffer);
}

function el(tag, className, parent, style) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (style) Object.assign(node.style, style);
  if (parent) parent.appendChild(node);
  return node;
}

function place(node, desktop, mobile) {
  node.style.setProperty("--dc", desktop[0]);
  node.style.setProperty("--dr", desktop[1]);
  node.style.setProperty("--mc", mobile[0]);
  node.style.setProperty("--mr", mobile[1]);
}

class Player {
  constructor(root, spec) {
    this.root = root;
    this.spec = spec;
    this.runs = spec.runs.map((run) => this.decodeRun(run));
    // the clock counts the frames of the longest run; shorter runs hold their last state
    this.master = this.runs.reduce((a, b) => (b.states[b.states.length - 1] > a.states[a.states.length - 1] ? b : a));
    this.count = this.master.states.length;
    this.position = spec.live ? this.count - 1 : 0;
    this.speed = 1;
    this.playing = false;
    this.drawn = 0;
    this.build();
  }

  decodeRun(run) {
    const f = run.frames;
    const out = { spec: run, states: decode(f.states), loss: decode(f.loss), pathX: decode(f.path_x),
      pathY: decode(f.path_y), hist: decode(f.hist), pct: decode(f.pct), exactMean: decode(f.exact_mean),
      exactVar: decode(f.exact_var), prob: decode(f.prob, "u8"), grid: f.grid, bins: f.bins, plots: [] };
    if (f.running_mean) {
      out.runningMean = decode(f.running_mean);
      out.runningVar = decode(f.running_var);
    }
    return out;
  }

  build() {
    const spec = this.spec;
    this.root.innerHTML = "";
    const box = el("div", "bnw", this.root);
    const bar = el("div", "bnw-bar", box);
    this.back = el("button", "bnw-back", bar);
    this.back.textContent = "◀";
    this.back.title = "one frame back";
    this.playButton = el("button", "bnw-play", bar);
    this.forward = el("button", "bnw-forward", bar);
    this.forward.textContent = "▶";
    this.forward.title = "one frame forward";
    this.slider = el("input", "bnw-slider", bar);
    Object.assign(this.slider, { type: "range", min: 0, max: this.count - 1, step: 1, value: this.position });
    this.slider.setAttribute("aria-label", "training step");
    this.speedSelect = el("select", "bnw-speed", bar);
    this.speedSelect.setAttribute("aria-label", "playback speed");
    for (const s of [0.25, 0.5, 1, 2, 4]) {
      const option = el("option", null, this.speedSelect);
      option.value = s;
      option.textContent = `${s}×`;
      option.selected = s === 1;
    }
    this.stepLabel = el("span", "bnw-step", bar);

    const grid = el("div", "bnw-grid", box);
    const n = this.runs.length;
    grid.style.setProperty("--runs", n);
    spec.panels.forEach((title, p) => {
      const head = el("div", "bnw-head", grid);
      head.textContent = title;
      place(head, [p + 2, 1], ["1 / -1", 2 + 2 * p]);
    });
    this.runs.forEach((run, r) => {
      const label = el("div", "bnw-label", grid, { color: run.spec.colour });
      label.innerHTML = `${run.spec.label}<small>${run.spec.note}</small>`;
      place(label, [1, r + 2], [r + 1, 1]);
      run.spec.panels.forEach((panel, p) => {
        const div = el("div", "bnw-plot", grid);
        div.dataset.run = r;
        div.dataset.panel = p;
        place(div, [p + 2, r + 2], [r + 1, 3 + 2 * p]);
        window.Plotly.newPlot(div, panel.data, panel.layout, { displayModeBar: false, responsive: true });
        run.plots.push(div);
      });
    });

    this.playButton.onclick = () => (this.playing ? this.pause() : this.play());
    this.back.onclick = () => { this.pause(); this.show(this.position - 1); };
    this.forward.onclick = () => { this.pause(); this.show(this.position + 1); };
    this.slider.oninput = () => { this.pause(); this.show(Number(this.slider.value)); };
    this.speedSelect.onchange = () => { this.speed = Number(this.speedSelect.value); };
    this.show(this.position);
    this.setButton();
    if (spec.live) {
      for (const control of [this.back, this.forward, this.slider, this.playButton]) control.disabled = true;
    } else if (spec.autoplay) {
      this.play();
    }
  }

  setButton() {
    this.playButton.textContent = this.playing ? "❚❚" : "▶ Play";
    this.playButton.title = this.playing ? "pause" : "play training";
  }

  play() {
    if (this.position >= this.count - 1) this.show(0);
    this.playing = true;
    this.setButton();
    let last = performance.now();
    let exact = this.position;
    const fps = this.count / Math.max(this.spec.seconds, 0.1);     // one pass in `seconds` at 1x
    const tick = (now) => {
      if (!this.playing) return;
      if (!this.root.isConnected) { this.playing = false; return; }     // the page drew something else
      exact = Math.min(exact + ((now - last) / 1000) * fps * this.speed, this.count - 1);
      last = now;
      const frame = Math.floor(exact);
      if (frame !== this.position) this.show(frame);
      if (frame >= this.count - 1) { this.pause(); return; }
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  pause() {
    this.playing = false;
    if (this.raf) cancelAnimationFrame(this.raf);
    this.setButton();
  }

  stop() { this.pause(); }

  frameOf(run, step) {
    // the last state of `run` at or before `step`
    let lo = 0, hi = run.states.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (run.states[mid] <= step) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  show(position) {
    this.position = Math.max(0, Math.min(this.count - 1, position));
    const step = this.master.states[this.position];
    for (const run of this.runs) this.draw(run, this.frameOf(run, step));
    this.slider.value = this.position;
    const total = this.master.states[this.count - 1];
    this.stepLabel.textContent = `${this.spec.live ? "training… " : ""}step ${step.toLocaleString()} of ${total.toLocaleString()}`;
    this.root.dataset.step = step;
    this.root.dataset.frame = this.position;
    this.drawn += 1;
    window.__bnvizWatchDrawn = (window.__bnvizWatchDrawn || 0) + 1;
  }

  draw(run, f) {
    const P = window.Plotly;
    const [loss, surface, hist, running, boundary] = run.plots;
    const step = run.states[f];
    const upto = (a) => Array.from(a.subarray(0, f + 1));
    const at = run.loss[f];
    P.restyle(loss, { x: [Number.isFinite(at) ? [step] : []], y: [Number.isFinite(at) ? [at] : []] }, [2]);
    if (run.spec.panels[1].data.length) {
      P.restyle(surface, { x: [upto(run.pathX), [run.pathX[f]]], y: [upto(run.pathY), [run.pathY[f]]] }, [1, 2]);
    }
    const B = run.bins;
    const [p15, p50, p85] = run.pct.subarray(3 * f, 3 * f + 3);
    const top = run.spec.top;
    P.restyle(hist, { y: [Array.from(run.hist.subarray(B * f, B * (f + 1))), [0, 0, top, top, 0], [0, top]],
      x: [hist.data[0].x, [p15, p85, p85, p15, p15], [p50, p50]] }, [0, 1, 2]);
    const xs = upto(run.states);
    if (run.runningMean) {
      P.restyle(running, { x: [xs, xs, xs, xs], y: [upto(run.exactMean), upto(run.exactVar),
        upto(run.runningMean), upto(run.runningVar)] }, [0, 1, 2, 3]);
    } else {
      P.restyle(running, { x: [xs, xs], y: [upto(run.exactMean), upto(run.exactVar)] }, [0, 1]);
    }
    const G = run.grid, z = [];
    for (let i = 0; i < G; i++) {
      z.push(Array.from(run.prob.subarray((f * G + i) * G, (f * G + i + 1) * G), (v) => v / 255));
    }
    P.restyle(boundary, { z: [z] }, [0]);
    for (const div of run.plots) {
      div.dataset.frame = f;
      div.dataset.step = step;
    }
  }
}

export default function (component) {
  const { data, parentElement } = component;
  if (!document.getElementById("bnviz-watch-css")) {
    const style = el("style", null, document.head);
    style.id = "bnviz-watch-css";
    style.textContent = CSS;
  }
  const current = parentElement.__bnvizWatch;
  if (current && current.spec.id === data.id && current.spec.live === data.live) return undefined;
  loadPlotly(data.plotly).then(() => {
    if (parentElement.__bnvizWatch) parentElement.__bnvizWatch.stop();
    parentElement.__bnvizWatch = new Player(parentElement, data);
  }).catch((err) => { parentElement.textContent = String(err.message || err); });
  return undefined;
}
