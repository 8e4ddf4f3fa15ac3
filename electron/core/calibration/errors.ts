/** A calibration problem explained for people: shown as it is in the UI and the CLI. */
export class CalibrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalibrationError';
  }
}
