/** The controller's events as the CLI prints them: one line each, text from sites and jobs made safe. */
import type { ControllerEvent } from '../model/events.js';
import { describeEvent } from '../report/progress-view.js';
import { asciiSafeJson, siteName, siteText } from '../report/safe-output.js';
import type { Style } from '../report/style.js';

/** `SITE: what happened`, for a terminal or a journal; a first attempt starting says nothing new (undefined). */
export function progressLine(event: ControllerEvent, style: Style): string | undefined {
  if (event.type === 'site-status' && event.phase === 'progressing' && event.attempt === 1) return undefined;
  return `${style.dim(`${siteName(event.site)}: ${siteText(describeEvent(event))}`)}\n`;
}

/** One JSON object per line (`--log-format json`): the event's own fields, its time and its line of text. */
export function eventJson(event: ControllerEvent, now: Date): string {
  return recordJson({ ...event, text: describeEvent(event) }, now);
}

/** Any other record of the JSON log (the spec reloaded, the watch stopping), with its time. */
export function recordJson(record: { type: string } & Record<string, unknown>, now: Date): string {
  // JSON escapes C0 controls; asciiSafeJson the C1, bidi and separator characters that job output may carry.
  return `${asciiSafeJson(JSON.stringify({ time: now.toISOString(), ...record }))}\n`;
}
