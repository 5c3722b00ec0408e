// The Node.js baseline: readline + JSON.parse / JSON.stringify, one answer per line.
const rl = require("readline").createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const m = JSON.parse(line);
  process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id: m.id, result: m.params ?? null }) + "\n");
});
