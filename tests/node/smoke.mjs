// Drives the fake ESI with nothing but Node's built-in fetch and its defaults
// (fetch sends `Accept-Language: *`). Prints one JSON line of what it saw.
const base = process.argv[2];
const seen = {};

async function get(path, headers = {}) {
  const response = await fetch(base + path, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

const status = await get("/status");
seen.status = { code: status.status, players: status.body.players };

const orders = await get("/markets/10000002/orders?order_type=all");
seen.orders = {
  code: orders.status,
  pages: orders.headers.get("x-pages"),
  count: orders.body.length,
  region_systems: orders.body.every((order) => typeof order.system_id === "number"),
};

const type = await get("/universe/types/34");
seen.type = { code: type.status, name: type.body.name, language: type.headers.get("content-language") };

seen.languages = {};
for (const wanted of ["*", "en-US,en;q=0.9", "de-DE", "EN", "xx", "fr;q=0.1, de;q=0.8"]) {
  const answer = await get("/universe/types/34", { "Accept-Language": wanted });
  seen.languages[wanted] = { code: answer.status, language: answer.headers.get("content-language") };
}

const names = await fetch(base + "/universe/names", {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify([30000142, 34]),
});
seen.names = { code: names.status, ids: (await names.json()).map((entry) => entry.id) };

console.log(JSON.stringify(seen));
