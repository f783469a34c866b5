"""Write every figure of a default run (and its BN-off twin) to one HTML page,
and screenshot it with headless Chromium, so the charts can be looked at.

    python scripts/figure_gallery.py [out_dir]      (default: artifacts/gallery)
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bnviz import Config, load_for, train  # noqa: E402
from bnviz import figures  # noqa: E402
from bnviz.activations import layer_histograms  # noqa: E402
from bnviz.landscape import input_scaling, network_plane  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def write_gallery(out: Path, config: Config = Config()) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    data = load_for(config)
    run = train(config, data)
    other = train(config.replace(bn=False), data)
    figs = figures.all_figures(run, data, other)
    figs["input_scaling_fast"] = figures.input_scaling_figure(input_scaling(data, lr=0.05, steps=60))
    figs["landscape_random"] = figures.landscape_figure(run, network_plane(run, data, "random"))
    figs["activations_z_unit"] = figures.activation_heatmap(run, layer_histograms([run, other], 2, "z", unit=0),
                                                            other)
    parts = []
    for i, (name, fig) in enumerate(figs.items()):
        fig.update_layout(width=1280)
        html = fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False, div_id=name,
                           auto_play=False)
        parts.append(f'<section id="s-{name}"><h2>{name}</h2>{html}</section>')
    page = out / "figures.html"
    page.write_text("<html><head><meta charset='utf-8'></head><body style='margin:0'>" + "".join(parts)
                    + "</body></html>", encoding="utf-8")
    return page


def screenshot(page: Path, out: Path) -> list:
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1300, "height": 720})
        tab.goto(page.as_uri())
        tab.wait_for_function("document.querySelectorAll('.js-plotly-plot').length > 0")
        for section in tab.query_selector_all("section"):
            name = section.get_attribute("id")[2:]
            path = out / f"{name}.png"
            section.screenshot(path=str(path))
            shots.append(path)
        browser.close()
    return shots


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "artifacts" / "gallery"
    page = write_gallery(out)
    for shot in screenshot(page, out):
        print(shot)
