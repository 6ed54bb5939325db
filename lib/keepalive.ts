/**
 * The MQTT keepalive rule every layer measures against: a broker drops a
 * client it has not heard from for one and a half keepalive intervals
 * (MQTT 3.1.1 §3.1.2.10, MQTT 5.0 §3.1.2.10). Server and browser code alike
 * import it from here.
 */
export const BROKER_DEADLINE_FACTOR = 1.5;

/** The broker's deadline for a keepalive, in the keepalive's unit (s or ms). */
export const brokerDeadline = (keepalive: number): number => keepalive * BROKER_DEADLINE_FACTOR;
