// Wires the event stream into the page. A trade of the charted stock is drawn at once; every
// event asks for one REST refresh of the view (at most one a second, so a busy market does not
// turn into a request storm); `reset` (events were lost) is such a refetch too: the trades already
// drawn were committed, so they stay. While the stream is live the page polls only as a safety net; without it, as often as before the stream existed.
import { $, el } from "./dom.js";
import * as market from "./market.js";
import * as stream from "./stream.js";
import * as trades from "./trades.js";

const POLL_LIVE_MS = 30000;
const POLL_MS = 3000;
const REFRESH_GAP_MS = 1000;

export const pollEvery = () => (stream.currentMode() === "live" ? POLL_LIVE_MS : POLL_MS);

// refresh(): reloads the current view; onMode(): the polling period changed (re-arm the timer, or
// a stream that just dropped would leave the page on the 30-second period until it ran out).
export function start(refresh, onMode) {
  let pending = null;
  const soon = () => {
    if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, REFRESH_GAP_MS);
  };
  stream.start({
    onEvent(name, data) {
      if (name === "ping" || !data) return;
      if (name === "trade" && trades.fromStream(data) && String(data.stock_id) === market.current()) market.renderChart();
      soon();
    },
    onMode(mode, why) {
      show(mode, why);
      onMode();
      if (mode !== "live") soon();   // events may have been missed
    },
    onGap: soon,
  });
}

function show(mode, why) {
  const pill = $("#live-status");
  pill.hidden = false;
  pill.dataset.mode = mode;
  const meaning = mode === "live"
    ? "Prices, trades and your orders arrive as they happen."
    : `No live stream (${why || "unavailable"}): the page refreshes every ${POLL_MS / 1000} s.`;
  pill.title = meaning;   // for the pointer; the hidden text says it to screen readers (role="status")
  pill.replaceChildren(mode === "live" ? "● Live" : "Polling", el("span", { class: "sr-only" }, ` — ${meaning}`));
}
