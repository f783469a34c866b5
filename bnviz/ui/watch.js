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
.bnw-title { font-weight: 700; font-size: 16px; margin-right: 6px; }
.bnw-step { font-variant-numeric: tabular-nums; min-width: 150px; font-size: 14px; color: #333; }
.bnw-grid { display: grid; gap: 2px 6px; grid-template-columns: 92px repeat(5, minmax(0, 1fr)); }
.bnw-grid > * { grid-column: var(--dc); grid-row: var(--dr); min-width: 0; }
.bnw-head { font-size: 13px; font-weight: 600; color: #333; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; align-self: end; }
.bnw-label { font-size: 13px; font-weight: 600; align-self: center; line-height: 1.25; }
.bnw-label small { display: block; font-weight: 400; color: #555; }
.bnw-plot { height: 170px; position: relative; z-index: 0; }
.bnw-layer { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
.bnw-canvas { position: absolute; z-index: -1; image-rendering: auto; }
@container (max-width: 700px) {
  .bnw-grid { grid-template-columns: repeat(var(--runs), minmax(0, 1fr)); }
  .bnw-grid > * { grid-column: var(--mc); grid-row: var(--mr); }
  .bnw-head { margin-top: 8px; }
  .bnw-title { flex-basis: 100%; }
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
    window.__bnvizWatchBuilt = (window.__bnvizWatchBuilt || []).concat([[performance.now(), this.master.states[this.count - 1], spec.live]]);
  }

  decodeRun(run) {
    const f = run.frames;
    const out = { spec: run, states: decode(f.states), loss: decode(f.loss), pathX: decode(f.path_x),
      pathY: decode(f.path_y), hist: decode(f.hist), pct: decode(f.pct), exactMean: decode(f.exact_mean),
      exactVar: decode(f.exact_var), prob: decode(f.prob, "u8"), edges: decode(f.edges), grid: f.grid,
      bins: f.bins, plots: [] };
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
    el("span", "bnw-title", bar).textContent = "Watch it train";
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
      run.layers = layersFor(run);
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
    const step = run.states[f];
    const [loss, surface, hist, running, boundary] = run.layers;
    const upto = (a) => a.subarray(0, f + 1);
    const at = run.loss[f];
    loss.points("marker", Number.isFinite(at) ? [step] : [], Number.isFinite(at) ? [at] : []);
    loss.values = { step, loss: at };
    if (surface) {
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
    boundary.image(run.prob.subarray(f * G * G, (f + 1) * G * G), G);
    boundary.values = { step, grid: G, prob: run.prob.subarray(f * G * G, (f + 1) * G * G) };
    run.plots.forEach((div, p) => {
      div.dataset.frame = f;
      div.dataset.step = step;
      div.bnwValues = run.layers[p] ? run.layers[p].values : { step };    // what the panel shows now
    });
  }
}

// What moves is drawn over each Plotly panel in SVG (and a canvas for the probabilities),
// placed with the panel's own axes: Plotly draws the still parts once, and a frame
// costs a few attribute changes instead of a Plotly redraw per panel.
const SVG = "http://www.w3.org/2000/svg";
const PROB = [[230, 159, 0], [255, 255, 255], [0, 158, 115]];      // orange, white at 0.5, green

class Layer {
  constructor(div, styles, axes = [["xaxis", "yaxis"]]) {
    this.div = div;
    this.styles = styles;
    this.axisNames = axes;
    this.shapes = {};
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("class", "bnw-layer");
    div.appendChild(this.svg);
    this.last = {};
    div.on("plotly_afterplot", () => this.redraw());
  }

  axes(which = 0) {
    const fl = this.div._fullLayout;
    const [xn, yn] = this.axisNames[which];
    const xa = fl[xn], ya = fl[yn];
    return { x: (v) => xa._offset + xa.l2p(v), y: (v) => ya._offset + ya.l2p(v), xa, ya };
  }

  shape(name, tag) {
    if (!this.shapes[name]) {
      const node = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(this.styles[name] || {})) node.setAttribute(k, v);
      this.svg.appendChild(node);
      this.shapes[name] = node;
    }
    return this.shapes[name];
  }

  remember(name, args) { this.last[name] = args; }

  redraw() {
    // after Plotly resized or redrew the panel: put everything where the axes now are
    for (const [name, args] of Object.entries(this.last)) this[args[0]](name, ...args.slice(1));
  }

  line(name, xs, ys) {
    this.remember(name, ["line", xs, ys]);
    const { x, y } = this.axes(this.styles[name] && this.styles[name].axes || 0);
    let d = "";
    let pen = "M";
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(ys[i]) || !Number.isFinite(xs[i])) { pen = "M"; continue; }
      d += `${pen}${x(xs[i]).toFixed(1)},${y(ys[i]).toFixed(1)}`;
      pen = "L";
    }
    this.shape(name, "path").setAttribute("d", d);
  }

  points(name, xs, ys) {
    this.remember(name, ["points", xs, ys]);
    const node = this.shape(name, "circle");
    if (!xs.length || !Number.isFinite(ys[0])) { node.setAttribute("r", 0); return; }
    const { x, y } = this.axes();
    node.setAttribute("cx", x(xs[0]));
    node.setAttribute("cy", y(ys[0]));
    node.setAttribute("r", this.styles[name].radius);
  }

  bars(name, edges, heights) {
    this.remember(name, ["bars", edges, heights]);
    const { x, y } = this.axes();
    let d = "";
    const base = y(0);
    for (let i = 0; i < heights.length; i++) {
      if (!(heights[i] > 0)) continue;
      const left = x(edges[i]) + 0.5, right = x(edges[i + 1]) - 0.5;
      d += `M${left.toFixed(1)},${base.toFixed(1)}V${y(heights[i]).toFixed(1)}H${right.toFixed(1)}V${base.toFixed(1)}Z`;
    }
    this.shape(name, "path").setAttribute("d", d);
  }

  band(name, low, high) {
    this.remember(name, ["band", low, high]);
    const node = this.shape(name, "rect");
    if (!Number.isFinite(low) || !Number.isFinite(high)) { node.setAttribute("width", 0); return; }
    const { x, xa, ya } = this.axes();
    const a = Math.max(x(low), xa._offset), b = Math.min(x(high), xa._offset + xa._length);
    node.setAttribute("x", a);
    node.setAttribute("width", Math.max(b - a, 0));
    node.setAttribute("y", ya._offset);
    node.setAttribute("height", ya._length);
  }

  vline(name, value) {
    this.remember(name, ["vline", value]);
    const node = this.shape(name, "line");
    const { x, xa, ya } = this.axes();
    const inside = Number.isFinite(value) && x(value) >= xa._offset && x(value) <= xa._offset + xa._length;
    node.setAttribute("x1", inside ? x(value) : -10);
    node.setAttribute("x2", inside ? x(value) : -10);
    node.setAttribute("y1", ya._offset);
    node.setAttribute("y2", ya._offset + ya._length);
  }

  image(prob, G) {
    this.remember("image", ["image", prob, G]);
    if (!this.canvas) {
      this.canvas = document.createElement("canvas");
      this.canvas.className = "bnw-canvas";
      this.canvas.width = G;
      this.canvas.height = G;
      this.div.insertBefore(this.canvas, this.div.firstChild);
      this.pixels = this.canvas.getContext("2d").createImageData(G, G);
    }
    const { xa, ya } = this.axes();
    const grid = this.styles.grid;            // [x0, x1, y0, y1]: the grid's first and last points
    const left = xa._offset + xa.l2p(grid[0]), right = xa._offset + xa.l2p(grid[1]);
    const top = ya._offset + ya.l2p(grid[3]), bottom = ya._offset + ya.l2p(grid[2]);
    Object.assign(this.canvas.style, { left: `${left}px`, top: `${top}px`, width: `${right - left}px`,
      height: `${bottom - top}px` });
    const out = this.pixels.data;
    for (let i = 0; i < G; i++) {           // canvas rows run top-down, grid rows bottom-up
      for (let j = 0; j < G; j++) {
        const p = prob[i * G + j] / 255, k = 4 * ((G - 1 - i) * G + j);
        const [lo, hi, t] = p < 0.5 ? [PROB[0], PROB[1], p * 2] : [PROB[1], PROB[2], p * 2 - 1];
        out[k] = lo[0] + (hi[0] - lo[0]) * t;
        out[k + 1] = lo[1] + (hi[1] - lo[1]) * t;
        out[k + 2] = lo[2] + (hi[2] - lo[2]) * t;
        out[k + 3] = 255;
      }
    }
    this.canvas.getContext("2d").putImageData(this.pixels, 0, 0);
  }
}

function layersFor(run) {
  const colour = run.spec.colour;
  const [loss, surface, hist, running, boundary] = run.plots;
  const edge = { stroke: "#000", "stroke-width": 1 };
  return [
    new Layer(loss, { marker: { fill: colour, radius: 5, ...edge } }),
    run.spec.panels[1].data.length ? new Layer(surface, {
      path: { fill: "none", stroke: colour, "stroke-width": 2 },
      marker: { fill: colour, radius: 4.5, ...edge } }) : null,
    new Layer(hist, {
      band: { fill: "rgba(0,0,0,0.08)", stroke: "rgba(0,0,0,0.45)", "stroke-dasharray": "2,2" },
      bars: { fill: colour, "fill-opacity": 0.65 },
      median: { stroke: "#000", "stroke-width": 2 } }),
    new Layer(running, {
      exactMean: { fill: "none", stroke: "#000", "stroke-width": 1.5, "stroke-dasharray": "5,3" },
      exactVar: { fill: "none", stroke: "#000", "stroke-width": 1.5, "stroke-dasharray": "5,3", axes: 1 },
      runningMean: { fill: "none", stroke: colour, "stroke-width": 2.5 },
      runningVar: { fill: "none", stroke: colour, "stroke-width": 2.5, axes: 1 } },
      [["xaxis", "yaxis"], ["xaxis2", "yaxis2"]]),
    new Layer(boundary, { grid: run.spec.grid }),
  ];
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
