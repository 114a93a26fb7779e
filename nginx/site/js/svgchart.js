// Line charts over time as inline SVG, hand-written (no library, nothing fetched). The chart is
// one image to assistive technology: role="img" with an aria-label summary; callers put the
// figures themselves in a table beside it.
import * as fmt from "./format.js";

const NS = "http://www.w3.org/2000/svg";
const PAD = { left: 70, right: 14, top: 14, bottom: 26 };

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// points: [{t: epoch ms, v: number}], oldest first. step: hold each value until the next one
// (trades), else straight segments (samples). width: the box's pixel width, so text stays 1:1.
// now: an optional {t, v} drawn dashed after the last point (e.g. today's price after the last
// trade), so the line reaches the present without posing as a data point.
export function lineChart(points, { label, step = false, width = 600, height = 200, now = null }) {
  const w = Math.max(260, Math.round(width));
  const root = svg("svg", { viewBox: `0 0 ${w} ${height}`, width: w, height, role: "img", "aria-label": label, class: "chart" });
  root.append(svg("title", {}, label));
  root.dataset.points = String(points.length);
  if (!points.length) {
    root.append(svg("text", { x: w / 2, y: height / 2, "text-anchor": "middle", class: "chart-empty" }, "No data yet"));
    return root;
  }
  const tail = now && now.t > points[points.length - 1].t ? now : null;
  const values = points.map((p) => p.v).concat(tail ? [tail.v] : []);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const margin = hi === lo ? Math.max(1, Math.abs(hi) * 0.05) : (hi - lo) * 0.08;   // a flat line sits mid-height
  lo -= margin;
  hi += margin;
  const t0 = points[0].t;
  const t1 = Math.max((tail || points[points.length - 1]).t, t0 + 1);
  const plotW = w - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * plotW;
  const y = (v) => PAD.top + (1 - (v - lo) / (hi - lo)) * plotH;

  for (const v of [hi - margin, (hi + lo) / 2, lo + margin]) {
    root.append(svg("line", { x1: PAD.left, x2: w - PAD.right, y1: y(v), y2: y(v), class: "chart-grid" }));
    root.append(svg("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end", class: "chart-axis" }, fmt.money(v)));
  }
  root.append(svg("text", { x: PAD.left, y: height - 6, class: "chart-axis" }, fmt.clock(t0)));
  root.append(svg("text", { x: w - PAD.right, y: height - 6, "text-anchor": "end", class: "chart-axis" }, fmt.clock(t1)));

  // One point alone is drawn as a level line across the plot.
  const drawn = points.length === 1 && !tail ? [points[0], { t: t1, v: points[0].v }] : points;
  let d = `M${x(drawn[0].t).toFixed(1)},${y(drawn[0].v).toFixed(1)}`;
  for (const p of drawn.slice(1)) {
    if (step) d += `H${x(p.t).toFixed(1)}`;
    d += `${step ? "V" : "L"}${step ? y(p.v).toFixed(1) : `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`}`;
  }
  root.append(svg("path", { d, class: "chart-line" }));
  if (tail) {
    const from = points[points.length - 1];
    const [x0, y0, x1, y1] = [x(from.t), y(from.v), x(tail.t), y(tail.v)].map((n) => n.toFixed(1));
    root.append(svg("path", { d: step ? `M${x0},${y0}H${x1}V${y1}` : `M${x0},${y0}L${x1},${y1}`, class: "chart-now" }));
  }
  if (points.length <= 80) {
    for (const p of points) root.append(svg("circle", { cx: x(p.t), cy: y(p.v), r: 3, class: "chart-dot" }));
  }
  root.dataset.last = String(points[points.length - 1].v);
  return root;
}

// Draws into box at the box's current width, and again whenever the window's width changes.
const drawn = new Set();
export function draw(box, points, options) {
  box.replaceChildren(lineChart(points, { ...options, width: box.clientWidth || 600 }));
  box.chartData = { points, options };
  drawn.add(box);
}

let resizing = null;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => {
    for (const box of drawn) if (box.clientWidth) draw(box, box.chartData.points, box.chartData.options);
  }, 150);
});
