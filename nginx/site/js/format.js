// Display formats. The platform API sends money in whole currency units (two decimals at most),
// the classic commands send decimal dollar text ("93.20").

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const cents = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

// 1250 → "$1,250.00"; "93.20" → "$93.20".
export function money(value) {
  const n = typeof value === "string" ? Number(value) : value;
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  return `$${cents.format(n)}`;
}

// 12488000000 → "12,488,000,000".
export function count(value) {
  if (value === null || value === undefined) return "—";
  return grouped.format(value);
}

// ISO timestamp → local "2024-01-12 15:03:25".
export function time(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// Epoch ms → "15:03:25" (24-hour: short and unambiguous on the chart axes).
export function clock(ms) {
  return new Date(ms).toLocaleTimeString("en-GB");
}

// "PARTIALLY_COMPLETE" → "partially complete".
export function status(value) {
  return String(value || "").toLowerCase().replaceAll("_", " ");
}
