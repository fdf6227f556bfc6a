// Loaded with `--import` into the role processes of the bench's tracing phase: an OpenTelemetry SDK with the
// in-memory exporter behind a batch processor, so the phase measures what tracing costs the engine (spans made,
// batched, handed to an exporter) without a network hop. Exported spans are counted and dropped every second, so a
// long run does not hold them all; the count goes to stderr on exit.
import { BatchSpanProcessor, InMemorySpanExporter, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { SagaIdGenerator } from '../src/tracing/saga-id-generator.js';

const exporter = new InMemorySpanExporter();
new NodeTracerProvider({
  idGenerator: new SagaIdGenerator(),
  spanProcessors: [new BatchSpanProcessor(exporter)],
}).register();

let exported = 0;
setInterval(() => {
  exported += exporter.getFinishedSpans().length;
  exporter.reset();
}, 1_000).unref();
process.once('exit', () => {
  exported += exporter.getFinishedSpans().length;
  process.stderr.write(`bench tracing: ${exported} spans exported by ${process.argv.slice(2).join(' ')}\n`);
});
