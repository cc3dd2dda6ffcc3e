// The app loads JSON Schema support (ajv) on demand before parsing suites; Node-side tests parse
// suites, results and share links directly, so it is loaded once up front.
import { loadJsonSchemaSupport } from '../src/eval/suite';

await loadJsonSchemaSupport();
