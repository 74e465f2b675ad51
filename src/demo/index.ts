export { runDemo, type DemoOptions } from './run.ts';
