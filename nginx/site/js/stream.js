// The live event stream: GET /engine/stream (Server-Sent Events) through EventSource.
// EventSource cannot send the token header, so each connection starts with a short-lived ticket
// from POST /engine/streamTicket. While the stream is down (no such endpoint yet, 401, network)
// the mode is "polling" and the page keeps its REST polling; retries back off to a minute.
//
// Reconnects: EventSource retries by itself (sending Last-Event-ID) while its readyState is
// CONNECTING; once it gives up (CLOSED, e.g. the ticket was refused) it cannot change its URL, so
// it is dropped and a new one opened with a fresh ticket. Events missed in that gap are not
// replayed, so onGap() lets the page refetch over REST.
import * as api from "./api.js";

const EVENTS = ["trade", "price", "order", "reset", "ping"];
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 60000;
const STUCK_MS = 15000;   // a self-retry that has not reopened by then gets a fresh ticket

let handlers = null;
let source = null;
let timer = null;
let retryMs = RETRY_MIN_MS;
let mode = "off";
let everOpen = false;

function setMode(next, why = "") {
  if (next === mode) return;
  mode = next;
  handlers?.onMode(next, why);
}

function schedule(delay) {
  clearTimeout(timer);
  timer = setTimeout(connect, delay);
}

function retryLater(why) {
  setMode("polling", why);
  schedule(retryMs);
  retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
}

function drop() {
  if (source) source.close();
  source = null;
}

async function connect() {
  drop();
  if (!handlers) return;
  let ticket;
  try {
    ticket = (await api.streamTicket())?.ticket;
    if (typeof ticket !== "string" || !ticket) throw new Error("no ticket in the answer");
  } catch (err) {
    retryLater(err.message);
    return;
  }
  if (!handlers) return;   // stopped while waiting for the ticket
  const es = new EventSource(`/engine/stream?ticket=${encodeURIComponent(ticket)}`);
  source = es;
  es.addEventListener("open", () => {
    if (source !== es) return;
    clearTimeout(timer);
    retryMs = RETRY_MIN_MS;
    setMode("live");
    if (everOpen) handlers.onGap();   // a new connection does not resume the old one's events
    everOpen = true;
  });
  es.addEventListener("error", () => {
    if (source !== es) return;
    if (es.readyState === EventSource.CLOSED) {
      drop();
      retryLater("the stream closed");
    } else {
      setMode("polling", "reconnecting");
      schedule(STUCK_MS);
    }
  });
  for (const name of EVENTS) {
    es.addEventListener(name, (event) => {
      if (source !== es) return;
      let data = null;
      try {
        data = event.data ? JSON.parse(event.data) : null;
      } catch {
        return;   // a malformed event is skipped, not fatal
      }
      handlers.onEvent(name, data);
    });
  }
}

// h: {onEvent(name, data), onMode(mode, why), onGap()}.
export function start(h) {
  if (handlers) return;
  handlers = h;
  retryMs = RETRY_MIN_MS;
  connect();
}

export function stop() {
  handlers = null;
  clearTimeout(timer);
  drop();
  mode = "off";
  everOpen = false;
}

export const currentMode = () => mode;
