// A grouped bar chart of the per-day statistics, drawn as SVG.
import { h, s } from "./ui.js";

const series = ["sent", "delivered", "read", "failed", "received", "apiCalls"];

export function chart(stats) {
  const days = stats.days || [];
  const W = 720, H = 240, padL = 36, padB = 28, padT = 10;
  const max = Math.max(1, ...days.flatMap((d) => series.map((k) => d[k] || 0)));
  const groupW = (W - padL) / Math.max(1, days.length);
  const barW = Math.max(1, (groupW - 4) / series.length);
  const y = (v) => H - padB - ((H - padB - padT) * v) / max;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", id: "stats-chart",
    "aria-label": `Messages per day from ${stats.from} to ${stats.to}: ` + series.map((k) => `${k} ${stats.totals[k] || 0}`).join(", ") });
  for (const f of [0, 0.5, 1]) {
    const v = Math.round(max * f);
    svg.append(s("line", { x1: padL, x2: W, y1: y(v), y2: y(v), stroke: "#d0d7de" }),
      s("text", { x: padL - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#57606a" }, String(v)));
  }
  days.forEach((d, i) => {
    const x0 = padL + i * groupW + 2;
    series.forEach((k, j) => {
      const v = d[k] || 0;
      if (!v) return;
      svg.append(s("rect", { class: "c-" + k, x: x0 + j * barW, y: y(v), width: Math.max(1, barW - 1), height: H - padB - y(v), "data-series": k, "data-value": v },
        s("title", {}, `${d.date} ${k}: ${v}`)));
    });
    if (days.length <= 16 || i % Math.ceil(days.length / 8) === 0) {
      svg.append(s("text", { x: x0 + groupW / 2, y: H - 8, "text-anchor": "middle", "font-size": 11, fill: "#57606a" }, d.date.slice(5)));
    }
  });
  return h("figure", { class: "chart card" }, svg,
    h("figcaption", { class: "legend" }, series.map((k) => h("span", { class: "k-" + k }, k))));
}
