// Prints vitest's result as one plain closing line ("Tests: N passed, N failed, N skipped")
// that any CI log reader understands. Usage: node scripts/test-summary.mjs <vitest-json-report>
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(process.argv[2], "utf8"));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`Tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
