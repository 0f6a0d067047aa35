// Builds the pkgsrc simulator (a test and demo double, see test/pkgsrc-sim/README.md) once per test run.
import { buildSimulator } from '../pkgsrc-sim/build.js';

export default async function setup(): Promise<void> {
  await buildSimulator();
}
