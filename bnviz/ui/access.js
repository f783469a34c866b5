// The page, for a keyboard and a screen reader: loaded with the training view (bnviz/ui/watch.py
// joins this file and watch.js into one module), it runs in the page's own document.
// - a skip link, the first Tab stop of the page: Enter moves focus to the training view's Play
//   (the sidebar's controls come before the view in the page's order);
// - each Plotly chart named by its sentence (bnviz/ui/access.py writes the sentence with the
//   chart's name under it): role "figure", aria-label and aria-describedby on the chart;
// - formulas wider than their column scroll sideways: those become Tab stops, so the keyboard
//   can scroll them too.
// Streamlit redraws its elements on every rerun, so one observer applies all of it again.

const ACCESS_CSS = `
.bnviz-skip { position: fixed; left: 8px; top: -60px; z-index: 1000100; padding: 10px 16px;
  background: #fff; color: #0B3D91; border: 2px solid #0072B2; border-radius: 8px; font: 600 16px sans-serif;
  text-decoration: underline; }
.bnviz-skip:focus { top: 8px; outline: 3px solid #0072B2; outline-offset: 2px; }
`;

function skipToPlay(event) {
  if (event) event.preventDefault();
  const play = document.querySelector(".bnw-play:not(:disabled)") || document.querySelector(".bnw-play");
  const target = play || document.querySelector("[data-testid='stMainBlockContainer']");
  if (!target) return;
  if (!play) target.setAttribute("tabindex", "-1");
  target.scrollIntoView({ block: "nearest" });
  target.focus();
}

function addSkipLink() {
  if (document.getElementById("bnviz-skip")) return;
  const style = document.createElement("style");
  style.textContent = ACCESS_CSS;
  document.head.appendChild(style);
  const link = document.createElement("a");
  link.id = "bnviz-skip";
  link.className = "bnviz-skip";
  link.href = "#bnviz-watch";
  link.textContent = "Skip to the training view's Play button";
  link.addEventListener("click", skipToPlay);
  document.body.insertBefore(link, document.body.firstChild);       // outside Streamlit's tree: kept
}

function nameCharts() {
  for (const said of document.querySelectorAll(".bnviz-said[id]")) {
    const box = said.closest("[class*='st-key-chart-']");
    const chart = box && box.querySelector("[data-testid='stPlotlyChart']");
    if (!chart) continue;
    const name = said.dataset.chartName || "";
    if (chart.getAttribute("aria-label") !== name) chart.setAttribute("aria-label", name);
    if (chart.getAttribute("aria-describedby") !== said.id) chart.setAttribute("aria-describedby", said.id);
    if (chart.getAttribute("role") !== "figure") chart.setAttribute("role", "figure");
  }
}

function reachScrollables() {
  for (const node of document.querySelectorAll(".katex-display")) {
    const scrolls = node.scrollWidth > node.clientWidth || node.scrollHeight > node.clientHeight;
    if (scrolls && node.getAttribute("tabindex") !== "0") {
      node.setAttribute("tabindex", "0");
      node.setAttribute("role", "group");
      node.setAttribute("aria-label", "formula (scrolls sideways)");
    } else if (!scrolls && node.getAttribute("tabindex") === "0") {
      node.removeAttribute("tabindex");
      node.removeAttribute("role");
      node.removeAttribute("aria-label");
    }
  }
}

// at most four times a second: the training view changes the page on every frame it plays
let accessQueued = false;
function applyAccess() {
  if (accessQueued) return;
  accessQueued = true;
  setTimeout(() => {
    accessQueued = false;
    nameCharts();
    reachScrollables();
  }, 250);
}

function pageAccess() {
  if (window.__bnvizAccess) return;
  window.__bnvizAccess = true;
  addSkipLink();
  new MutationObserver(applyAccess).observe(document.body, { childList: true, subtree: true });
  window.addEventListener("resize", applyAccess);
  applyAccess();
}
