// What the loopback test origin and the tests agree on: the mark on its answers and the shape of a recorded request
// (no imports, so that both Node and workerd load it).

/** Marks every answer of the test origin, so a test can tell the origin's answers from the gateway's own. */
export const ORIGIN_MARK = "x-origin";
export const ORIGIN_MARK_VALUE = "loopback";

/** A request as the origin received it: the raw target, every header line (name, value, …), the body (UTF-8). */
export interface RecordedRequest {
  method: string;
  target: string;
  headers: string[];
  body: string;
}

/** A response a test scripted through the control port (`POST /scripts/<id>`), served at `/__loopback/scripted/<id>`. */
export interface Script {
  status?: number;
  headers?: Record<string, string>;
  chunks: string[];
  /** Hold the response after its first chunk: each further chunk goes out on a control call (`gated/<id>/next`). */
  hold?: boolean;
}
