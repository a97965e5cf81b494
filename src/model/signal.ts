/** A slow signal (funding rate, open interest, an external score) that a background task polls into BotState. */
export interface SignalSource {
  name: string;
  slot: number;
  /** BotState field to write (F.fundingRate, F.openInterest, F.signal) */
  field: number;
  intervalMs: number;
  fetch(): Promise<number>;
}
