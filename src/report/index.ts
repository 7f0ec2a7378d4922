export { renderText, type TextOptions } from './text.js';
export { renderJson, toJsonReport, type JsonReport } from './json.js';
export { renderJunit } from './junit.js';
export { formatTranscript, summarize, summaryLine, type Summary } from './summary.js';
