// Watch it train: one clock for every panel of one or two runs, played in the browser.
// The server sends each panel's still parts and every frame's numbers once; playing,
// stepping and scrubbing redraw the moving parts here, with no round trip. The panels
// are plain SVG and canvas: a frame is a few attribute changes for all ten panels, and
// the view needs no charting library of its own to load before it can draw.

const CSS = `
.bnw { container-type: inline-size; font-family: "Source Sans Pro", sans-serif; }
.bnw-bar { display: flex; align-items: center; gap: 6px; flex-wrap: wrap; margin: 0 0 4px 0; }
.bnw-bar button { min-width: 40px; height: 36px; border: 1px solid #C8D4E3; border-radius: 8px;
  background: #fff; font-size: 16px; cursor: pointer; color: #222; }
.bnw-bar button.bnw-play { min-width: 64px; background: #0072B2; color: #fff; border-color: #0072B2; }
.bnw-bar input[type=range] { flex: 1 1 200px; min-width: 120px; height: 28px; accent-color: #0072B2; }
.bnw-bar button:disabled, .bnw-bar input:disabled { opacity: 0.4; cursor: default; }
.bnw-bar button:focus-visible, .bnw-bar input:focus-visible, .bnw-bar select:focus-visible {
  outline: 3px solid #0B3D91; outline-offset: 2px; }
.bnw-live { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
.bnw-bar select { height: 36px; border: 1px solid #C8D4E3; border-radius: 8px; background: #fff; }
.bnw-title { font-weight: 700; font-size: 16px; margin-right: 6px; }
.bnw-step { font-variant-numeric: tabular-nums; min-width: 150px; font-size: 14px; color: #333; }
.bnw-grid { display: grid; gap: 2px 6px; grid-template-columns: 92px repeat(5, minmax(0, 1fr)); }
.bnw-grid > * { grid-column: var(--dc); grid-row: var(--dr); min-width: 0; }
.bnw-head { font-size: 13px; font-weight: 600; color: #333; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; align-self: end; }
.bnw-label { font-size: 13px; font-weight: 600; align-self: center; line-height: 1.25; }
.bnw-label small { display: block; font-weight: 400; color: #555; }
.bnw-plot { height: 170px; position: relative; z-index: 0; overflow: hidden; }
.bnw-svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; overflow: hidden; }
.bnw-canvas { position: absolute; z-index: -1; image-rendering: auto; }
.bnw-grid-line { stroke: #E5ECF6; stroke-width: 1; }
.bnw-tick { font-size: 10px; fill: #444; }
.bnw-title-x, .bnw-title-y { font-size: 11px; fill: #222; }
.bnw-message { position: absolute; inset: 30% 8px auto 8px; font-size: 12px; color: #555; text-align: center; }
@container (max-width: 700px) {
  .bnw-grid { grid-template-columns: repeat(var(--runs), minmax(0, 1fr)); }
  .bnw-grid > * { grid-column: var(--mc); grid-row: var(--mr); }
  .bnw-head { margin-top: 8px; }
  .bnw-title { flex-basis: 100%; }
  .bnw-plot { height: 190px; }
  .bnw-bar button { min-width: 48px; height: 48px; font-size: 20px; }
  .bnw-bar button.bnw-play { min-width: 88px; }
  .bnw-bar input[type=range] { flex-basis: 100%; order: 9; height: 40px; }
  .bnw-bar button:disabled, .bnw-bar input:disabled { opacity: 0.4; cursor: default; }
.bnw-bar select { height: 48px; }
}
`;

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
    // the classes' colours come with the spec (bnviz.figures.colours): P(label) fades from class 0's through white
    if (spec.classes) PALETTES.prob = [rgb(spec.classes[0]), [255, 255, 255], rgb(spec.classes[1])];
    this.runs = spec.runs.map((run) => this.decodeRun(run));
    // the clock counts the frames of the longest run; shorter runs hold their last state
    this.master = this.runs.reduce((a, b) => (b.states[b.states.length - 1] > a.states[a.states.length - 1] ? b : a));
    this.count = this.master.states.length;
    this.position = spec.live ? this.count - 1 : 0;
    this.speed = 1;
    this.playing = false;
    this.drawn = 0;
    this.build();
    window.__bnvizWatchBuilt = (window.__bnvizWatchBuilt || []).concat([[performance.now(), this.master.states[this.count - 1], spec.live]]);
  }

  decodeRun(run) {
    const f = run.frames;
    const out = { spec: run, states: decode(f.states), loss: decode(f.loss), pathX: decode(f.path_x),
      pathY: decode(f.path_y), hist: decode(f.hist), pct: decode(f.pct), exactMean: decode(f.exact_mean),
      exactVar: decode(f.exact_var), prob: f.prob ? decode(f.prob, "u8") : null, edges: decode(f.edges),
      grid: f.grid, bins: f.bins, plots: [] };
    if (f.accuracy) out.accuracy = decode(f.accuracy);       // data off the two-feature plane
    if (f.running_mean) {
      out.runningMean = decode(f.running_mean);
      out.runningVar = decode(f.running_var);
    }
    return out;
  }

  build() {
    const spec = this.spec;
    this.root.replaceChildren();
    const box = el("div", "bnw", this.root);
    box.id = "bnviz-watch";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Watch it train: the training view");
    const bar = el("div", "bnw-bar", box);
    el("span", "bnw-title", bar).textContent = "Watch it train";
    this.back = el("button", "bnw-back", bar);
    this.back.textContent = "◀";
    this.back.title = "one frame back";
    this.back.setAttribute("aria-label", "one frame back");
    this.playButton = el("button", "bnw-play", bar);
    this.forward = el("button", "bnw-forward", bar);
    this.forward.textContent = "▶";
    this.forward.title = "one frame forward";
    this.forward.setAttribute("aria-label", "one frame forward");
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
    // what a screen reader hears while the view plays: the step, at most once a second (see announce)
    this.live = el("div", "bnw-live", box);
    this.live.setAttribute("role", "status");
    this.live.setAttribute("aria-live", "polite");
    this.live.setAttribute("aria-atomic", "true");
    this.said = 0;

    const grid = el("div", "bnw-grid", box);
    const n = this.runs.length;
    grid.style.setProperty("--runs", n);
    spec.panels.forEach((title, p) => {
      const head = el("div", "bnw-head", grid);
      head.textContent = title;
      place(head, [p + 2, 1], ["1 / -1", 2 + 2 * p]);
    });
    this.runs.forEach((run, r) => {
      const label = el("div", "bnw-label", grid, { color: run.spec.ink || run.spec.colour });   // 4.5:1 on white
      label.textContent = run.spec.label;               // text only: never parsed as HTML
      el("small", null, label).textContent = run.spec.note;
      place(label, [1, r + 2], [r + 1, 1]);
      run.spec.panels.forEach((panel, p) => {
        const div = el("div", "bnw-plot", grid);
        div.dataset.run = r;
        div.dataset.panel = p;
        // a name and a sentence from the run's numbers (bnviz.figures.speech), read instead of the drawing
        div.setAttribute("role", "img");
        div.setAttribute("aria-label", panel.said || `${spec.panels[p]}, ${run.spec.label}`);
        place(div, [p + 2, r + 2], [r + 1, 3 + 2 * p]);
        run.plots.push(div);
      });
      run.layers = panelsFor(run);
    });

    this.playButton.onclick = () => (this.playing ? this.pause() : this.play());
    this.back.onclick = () => { this.pause(); this.show(this.position - 1); };
    this.forward.onclick = () => { this.pause(); this.show(this.position + 1); };
    this.slider.oninput = () => { this.pause(); this.show(Number(this.slider.value)); };
    this.speedSelect.onchange = () => { this.speed = Number(this.speedSelect.value); };
    // the keyboard: Enter or Space on a button, arrows on the slider (the browser's own); on the
    // buttons, left and right step one frame and Home and End go to the first and the last
    box.addEventListener("keydown", (event) => this.key(event));
    this.show(this.position);
    this.setButton();
    if (spec.live) {
      for (const control of [this.back, this.forward, this.slider, this.playButton]) {
        control.disabled = true;
        control.title = "available once training has finished";
      }
    } else if (spec.autoplay) {
      this.play();
    }
  }

  setButton() {
    this.playButton.textContent = this.playing ? "❚❚" : "▶ Play";
    this.playButton.title = this.playing ? "pause" : "play training";
    this.playButton.setAttribute("aria-label", this.playing ? "Pause" : "Play");
  }

  key(event) {
    if (event.target.tagName !== "BUTTON" || this.spec.live) return;
    const moves = { ArrowLeft: () => this.position - 1, ArrowRight: () => this.position + 1,
      Home: () => 0, End: () => this.count - 1 };
    if (!moves[event.key]) return;
    event.preventDefault();
    this.pause();
    this.show(moves[event.key]());
    this.announce(true);
  }

  stepText() {
    const step = this.master.states[this.position];
    const total = Math.max(this.spec.span || 0, this.master.states[this.count - 1]);
    const losses = this.runs.map((run) => {
      const at = run.loss[this.frameOf(run, step)];
      return `${run.spec.label}: loss ${Number.isFinite(at) ? at.toFixed(3) : "not a number"}`;
    });
    return `Step ${step.toLocaleString()} of ${total.toLocaleString()}. ${losses.join("; ")}.`;
  }

  announce(now) {
    // polite, and at most once a second: a screen reader must not be flooded while the view plays
    const t = performance.now();
    if (!now && t - this.said < 1000) return;
    this.said = t;
    this.live.textContent = this.stepText();
    this.live.dataset.said = t;
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
    const was = this.playing;
    this.playing = false;
    if (this.raf) cancelAnimationFrame(this.raf);
    this.setButton();
    if (was) this.announce(true);                      // where it stopped, at once
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
    const total = Math.max(this.spec.span || 0, this.master.states[this.count - 1]);
    this.slider.setAttribute("aria-valuetext", `step ${step.toLocaleString()} of ${total.toLocaleString()}`);
    if (this.playing) this.announce(false);
    this.stepLabel.textContent = `${this.spec.live ? "training… " : ""}step ${step.toLocaleString()} of ${total.toLocaleString()}`;
    this.root.dataset.step = step;
    this.root.dataset.frame = this.position;
    this.drawn += 1;
    window.__bnvizWatchDrawn = (window.__bnvizWatchDrawn || 0) + 1;
  }

  draw(run, f) {
    const step = run.states[f];
    const [loss, surface, hist, running, boundary] = run.layers;
    const upto = (a) => a.subarray(0, f + 1);
    const at = run.loss[f];
    loss.points("marker", Number.isFinite(at) ? [step] : [], Number.isFinite(at) ? [at] : []);
    loss.values = { step, loss: at };
    if (surface.axes.length) {
      surface.line("path", upto(run.pathX), upto(run.pathY));
      surface.points("marker", [run.pathX[f]], [run.pathY[f]]);
      surface.values = { step, x: run.pathX[f], y: run.pathY[f], points: f + 1 };
    }
    const B = run.bins;
    const shares = run.hist.subarray(B * f, B * (f + 1));
    const [p15, p50, p85] = run.pct.subarray(3 * f, 3 * f + 3);
    hist.bars("bars", run.edges, shares);
    hist.band("band", p15, p85);
    hist.vline("median", p50);
    hist.values = { step, shares: Array.from(shares), p15, median: p50, p85 };
    const xs = upto(run.states);
    running.line("exactMean", xs, upto(run.exactMean));
    running.line("exactVar", xs, upto(run.exactVar));
    running.values = { step, exact_mean: run.exactMean[f], exact_var: run.exactVar[f] };
    if (run.runningMean) {
      running.line("runningMean", xs, upto(run.runningMean));
      running.line("runningVar", xs, upto(run.runningVar));
      Object.assign(running.values, { running_mean: run.runningMean[f], running_var: run.runningVar[f] });
    }
    const G = run.grid;
    if (run.prob && G) {
      boundary.image("prob", run.prob.subarray(f * G * G, (f + 1) * G * G), [G, G], run.spec.grid, "prob");
      boundary.values = { step, grid: G, prob: run.prob.subarray(f * G * G, (f + 1) * G * G) };
    } else if (run.accuracy) {
      boundary.line("accuracy", xs, upto(run.accuracy));
      boundary.points("marker", [step], [run.accuracy[f]]);
      boundary.values = { step, accuracy: run.accuracy[f] };
    }
    run.plots.forEach((div, p) => {
      div.dataset.frame = f;
      div.dataset.step = step;
      div.bnwValues = run.layers[p] ? run.layers[p].values : { step };    // what the panel shows now
    });
  }
}

const SVG = "http://www.w3.org/2000/svg";
const PALETTES = {
  prob: [[180, 123, 0], [255, 255, 255], [0, 158, 115]],      // class 0, white at 0.5, class 1 (the spec's)
  grey: [[165, 165, 165], [215, 215, 215], [250, 250, 250]],  // low loss darker, high loss light
};
const MARGIN = { left: 44, right: 8, top: 6, bottom: 32 };

function niceTicks(low, high, count) {
  const span = high - low;
  if (!(span > 0)) return [low];
  const raw = span / count, power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  if (ticks.length < 3 && count < 12) return niceTicks(low, high, count + 1);      // at least three labels
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return ticks.map((v) => [v, Math.abs(v) >= 1e4 ? v.toExponential(0) : v.toFixed(Math.min(digits + 1, 6)).replace(/\.?0+$/, "")]);
}

function rgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function colour(palette, value) {
  const [a, b, c] = PALETTES[palette];
  const [lo, hi, t] = value < 0.5 ? [a, b, value * 2] : [b, c, value * 2 - 1];
  return [lo[0] + (hi[0] - lo[0]) * t, lo[1] + (hi[1] - lo[1]) * t, lo[2] + (hi[2] - lo[2]) * t];
}

// One panel: axes from the server's spec, its still parts drawn once per size, and the
// moving parts (named shapes) redrawn each frame. Everything is placed by the panel's own
// axes, recomputed whenever the panel changes size.
class Panel {
  constructor(div, spec, styles) {
    this.div = div;
    this.spec = spec;
    this.styles = styles;
    this.shapes = {};
    this.last = {};
    this.values = {};
    this.images = {};
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("class", "bnw-svg");
    div.appendChild(this.svg);
    this.still = document.createElementNS(SVG, "g");
    this.moving = document.createElementNS(SVG, "g");
    this.svg.append(this.still, this.moving);
    if (spec.message) {
      el("div", "bnw-message", div).textContent = spec.message;
    }
    this.layout();
    new ResizeObserver(() => { if (this.layout()) this.redraw(); }).observe(div);
  }

  layout() {
    const width = this.div.clientWidth, height = this.div.clientHeight;
    if (!width || !height || (width === this.width && height === this.height)) return false;
    this.width = width;
    this.height = height;
    const inner = height - MARGIN.top - MARGIN.bottom;
    this.axes = (this.spec.axes || []).map((a) => {
      const left = MARGIN.left, right = width - MARGIN.right;
      const top = MARGIN.top + inner * (1 - a.high), bottom = MARGIN.top + inner * (1 - a.low);
      const sx = (right - left) / (a.x[1] - a.x[0] || 1), sy = (bottom - top) / (a.y[1] - a.y[0] || 1);
      return { spec: a, left, right, top, bottom, x: (v) => left + (v - a.x[0]) * sx, y: (v) => bottom - (v - a.y[0]) * sy };
    });
    this.drawStill();
    return true;
  }

  drawStill() {
    this.still.replaceChildren();
    for (const ax of this.axes) {
      const a = ax.spec;
      for (const [v, text] of niceTicks(a.y[0], a.y[1], Math.max(2, Math.round((ax.bottom - ax.top) / 30)))) {
        const y = ax.y(v);
        this.add("line", { x1: ax.left, x2: ax.right, y1: y, y2: y, class: "bnw-grid-line" });
        this.add("text", { x: ax.left - 4, y: y + 3.5, "text-anchor": "end", class: "bnw-tick" }).textContent = text;
      }
      for (const [v, text] of niceTicks(a.x[0], a.x[1], Math.max(3, Math.round((ax.right - ax.left) / 40)))) {
        const x = ax.x(v);
        this.add("line", { x1: x, x2: x, y1: ax.top, y2: ax.bottom, class: "bnw-grid-line" });
        if (a.x_ticks) this.add("text", { x, y: ax.bottom + 12, "text-anchor": "middle", class: "bnw-tick" }).textContent = text;
      }
      if (a.x_title) {
        this.add("text", { x: (ax.left + ax.right) / 2, y: ax.bottom + 26, "text-anchor": "middle", class: "bnw-title-x" }).textContent = a.x_title;
      }
      const middle = (ax.top + ax.bottom) / 2;
      this.add("text", { x: 10, y: middle, "text-anchor": "middle", transform: `rotate(-90 10 ${middle})`, class: "bnw-title-y" }).textContent = a.y_title;
    }
    for (const item of this.spec.items || []) {
      const ax = this.axes[item.axis];
      if (item.kind === "line") {
        const path = this.add("path", { fill: "none", ...item.style });
        path.setAttribute("d", pathOf(ax, decode(item.x), decode(item.y)));
      } else if (item.kind === "points") {
        const xs = decode(item.x), ys = decode(item.y);
        const group = this.add("g", item.style);
        for (let i = 0; i < xs.length; i++) {
          const dot = document.createElementNS(SVG, "circle");
          dot.setAttribute("cx", ax.x(xs[i]).toFixed(1));
          dot.setAttribute("cy", ax.y(ys[i]).toFixed(1));
          dot.setAttribute("r", item.r);
          group.appendChild(dot);
        }
      } else if (item.kind === "image") {
        this.image("still", decode(item.values, "u8"), item.size, item.grid, item.palette);
      }
    }
  }

  add(tag, attributes) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
    this.still.appendChild(node);
    return node;
  }

  shape(name, tag) {
    if (!this.shapes[name]) {
      const node = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(this.styles[name] || {})) if (k !== "axis") node.setAttribute(k, v);
      this.moving.appendChild(node);
      this.shapes[name] = node;
    }
    return this.shapes[name];
  }

  redraw() {
    // after a resize: every moving part again, where the axes now are
    for (const [name, args] of Object.entries(this.last)) this[args[0]](name, ...args.slice(1));
  }

  line(name, xs, ys) {
    this.last[name] = ["line", xs, ys];
    this.shape(name, "path").setAttribute("d", pathOf(this.axes[(this.styles[name] || {}).axis || 0], xs, ys));
  }

  points(name, xs, ys) {
    this.last[name] = ["points", xs, ys];
    const node = this.shape(name, "circle");
    const ax = this.axes[0];
    if (!xs.length || !Number.isFinite(ys[0]) || !Number.isFinite(xs[0])) { node.setAttribute("r", 0); return; }
    node.setAttribute("cx", ax.x(xs[0]));
    node.setAttribute("cy", ax.y(ys[0]));
    node.setAttribute("r", this.styles[name].radius);
  }

  bars(name, edges, heights) {
    this.last[name] = ["bars", edges, heights];
    const ax = this.axes[0];
    let d = "";
    const base = ax.y(0);
    for (let i = 0; i < heights.length; i++) {
      if (!(heights[i] > 0)) continue;
      const left = ax.x(edges[i]) + 0.5, right = ax.x(edges[i + 1]) - 0.5;
      d += `M${left.toFixed(1)},${base.toFixed(1)}V${Math.max(ax.y(heights[i]), ax.top).toFixed(1)}H${right.toFixed(1)}V${base.toFixed(1)}Z`;
    }
    this.shape(name, "path").setAttribute("d", d);
  }

  band(name, low, high) {
    this.last[name] = ["band", low, high];
    const node = this.shape(name, "rect");
    const ax = this.axes[0];
    if (!Number.isFinite(low) || !Number.isFinite(high)) { node.setAttribute("width", 0); return; }
    const a = Math.max(ax.x(low), ax.left), b = Math.min(ax.x(high), ax.right);
    node.setAttribute("x", a);
    node.setAttribute("width", Math.max(b - a, 0));
    node.setAttribute("y", ax.top);
    node.setAttribute("height", ax.bottom - ax.top);
  }

  vline(name, value) {
    this.last[name] = ["vline", value];
    const node = this.shape(name, "line");
    const ax = this.axes[0];
    const x = Number.isFinite(value) && ax.x(value) >= ax.left && ax.x(value) <= ax.right ? ax.x(value) : -10;
    node.setAttribute("x1", x);
    node.setAttribute("x2", x);
    node.setAttribute("y1", ax.top);
    node.setAttribute("y2", ax.bottom);
  }

  image(name, values, size, grid, palette) {
    // values: (rows bottom-up) x columns, 0..255, painted between the grid's first and last points
    this.last[name] = ["image", values, size, grid, palette];
    const [nx, ny] = size;
    let entry = this.images[name];
    if (!entry) {
      const canvas = document.createElement("canvas");
      canvas.className = "bnw-canvas";
      canvas.width = nx;
      canvas.height = ny;
      this.div.insertBefore(canvas, this.div.firstChild);
      entry = this.images[name] = { canvas, pixels: canvas.getContext("2d").createImageData(nx, ny) };
    }
    const ax = this.axes[0];
    const left = ax.x(grid[0]), right = ax.x(grid[1]), top = ax.y(grid[3]), bottom = ax.y(grid[2]);
    Object.assign(entry.canvas.style, { left: `${left}px`, top: `${top}px`, width: `${right - left}px`,
      height: `${bottom - top}px` });
    const out = entry.pixels.data;
    for (let i = 0; i < ny; i++) {             // canvas rows run top-down
      for (let j = 0; j < nx; j++) {
        const [r, g, b] = colour(palette, values[i * nx + j] / 255), k = 4 * ((ny - 1 - i) * nx + j);
        out[k] = r; out[k + 1] = g; out[k + 2] = b; out[k + 3] = 255;
      }
    }
    entry.canvas.getContext("2d").putImageData(entry.pixels, 0, 0);
  }
}

function pathOf(ax, xs, ys) {
  let d = "", pen = "M";
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(ys[i]) || !Number.isFinite(xs[i])) { pen = "M"; continue; }
    d += `${pen}${ax.x(xs[i]).toFixed(1)},${Math.min(Math.max(ax.y(ys[i]), ax.top - 2), ax.bottom + 2).toFixed(1)}`;
    pen = "L";
  }
  return d;
}

function panelsFor(run) {
  const c = run.spec.colour;
  const [loss, surface, hist, running, boundary] = run.plots;
  const edge = { stroke: "#000", "stroke-width": 1 };
  const panels = run.spec.panels;
  return [
    new Panel(loss, panels[0], { marker: { fill: c, radius: 5, ...edge } }),
    new Panel(surface, panels[1], { path: { fill: "none", stroke: c, "stroke-width": 2 },
      marker: { fill: c, radius: 4.5, ...edge } }),
    new Panel(hist, panels[2], {
      band: { fill: "rgba(0,0,0,0.08)", stroke: "rgba(0,0,0,0.45)", "stroke-dasharray": "2,2" },
      bars: { fill: c, "fill-opacity": 0.65 },
      median: { stroke: "#000", "stroke-width": 2 } }),
    new Panel(running, panels[3], {
      exactMean: { fill: "none", stroke: "#000", "stroke-width": 1.5, "stroke-dasharray": "5,3" },
      exactVar: { fill: "none", stroke: "#000", "stroke-width": 1.5, "stroke-dasharray": "5,3", axis: 1 },
      runningMean: { fill: "none", stroke: c, "stroke-width": 2.5 },
      runningVar: { fill: "none", stroke: c, "stroke-width": 2.5, axis: 1 } }),
    new Panel(boundary, panels[4], { accuracy: { fill: "none", stroke: c, "stroke-width": 2 },
      marker: { fill: c, radius: 4.5, ...edge } }),
  ];
}

// The page sends the spec as UTF-8 JSON bytes (encoded once on the server and kept), or as an object.
function specOf(data) {
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    return JSON.parse(new TextDecoder().decode(data));
  }
  return data;
}

export default function (component) {
  const { parentElement } = component;
  const data = specOf(component.data);
  pageAccess();                                     // access.js, joined in front of this file
  if (!document.getElementById("bnviz-watch-css")) {
    const style = el("style", null, document.head);
    style.id = "bnviz-watch-css";
    style.textContent = CSS;
  }
  const current = parentElement.__bnvizWatch;
  if (current && current.spec.id === data.id && current.spec.live === data.live) return undefined;
  performance.mark("bnviz-watch-mount");           // marks for benchmarks/watch.py
  if (parentElement.__bnvizWatch) parentElement.__bnvizWatch.stop();
  parentElement.__bnvizWatch = new Player(parentElement, data);
  performance.mark("bnviz-watch-drawn");
  return undefined;
}
