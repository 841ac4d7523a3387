// Two writers fed the same events: the text output and a file (-w). The text writer stays the one whose
// counts and summary the session reports; the file writer is finished even when the text one throws.
import type { CreatedWriter } from "./index.js";
import type { Writer } from "./types.js";

export function teeWriter(main: CreatedWriter, file: Writer): CreatedWriter {
  return {
    write: (dv: DataView, off: number, packet: number) => {
      main.write(dv, off, packet);
      file.write(dv, off, packet);
    },
    finish: () => {
      try {
        main.finish();
      } finally {
        file.finish();
      }
    },
    get count() {
      return main.count;
    },
    get overflow() {
      return main.overflow;
    },
    get events() {
      return main.events;
    },
    report: (err) => main.report(err),
    summary: () => main.summary(),
  };
}
