// C printf conversions the text outputs use, for ASCII names (kernel symbols and module names are ASCII).

/** %03u */
export function cpu3(cpu: number): string {
  return cpu < 10 ? `00${cpu}` : cpu < 100 ? `0${cpu}` : `${cpu}`;
}

/** %W.Ws: at most W characters, right-aligned in W. */
export const fitRight = (s: string, w: number): string => (s.length > w ? s.slice(0, w) : s.padStart(w));

/** %-W.Ws: at most W characters, left-aligned in W. */
export const fitLeft = (s: string, w: number): string => (s.length > w ? s.slice(0, w) : s.padEnd(w));
