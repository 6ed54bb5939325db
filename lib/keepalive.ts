/**
 * Named timing constants shared across layers (server and browser code alike
 * import them from here): the keepalive rule, the slacks measured against it,
 * and the time units.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * The MQTT keepalive rule every layer measures against: a broker drops a
 * client it has not heard from for one and a half keepalive intervals
 * (MQTT 3.1.1 §3.1.2.10, MQTT 5.0 §3.1.2.10). Server and browser code alike
 * import it from here.
 */
export const BROKER_DEADLINE_FACTOR = 1.5;

/** The broker's deadline for a keepalive, in the keepalive's unit (s or ms). */
export const brokerDeadline = (keepalive: number): number => keepalive * BROKER_DEADLINE_FACTOR;

/**
 * Slack before `late` when pings are visible: clients such as MQTT.js send
 * their PINGREQ exactly keepalive seconds after their last packet, so timer
 * and transport delays alone would otherwise make healthy devices flicker late.
 */
export const LATE_GRACE_MS = 500;
/** The same slack when PINGREQs come from Mosquitto's debug log (stamped in whole seconds when read late). */
export const DEBUG_LOG_LATE_GRACE_MS = 1_000;

/**
 * How late after BROKER_DEADLINE_FACTOR × keepalive a broker may drop a
 * silent client: Mosquitto 2.0 checks keepalives about every 5–6 s (whole
 * seconds), Aedes runs a timer per client. Re-learning deadlines wait this
 * much longer (lib/fleet/machine.ts).
 */
export const MOSQUITTO_CHECK_SLACK_MS = 6_000;
export const AEDES_CHECK_SLACK_MS = 1_000;

/**
 * With MOSQUITTO_LOG_FILE the monitor's own connection sends the broker a
 * no-op packet every DEBUG_LOG_TOUCH_MS, so a working debug log never goes
 * DEBUG_LOG_STALL_MS without a line ("Received UNSUBSCRIBE from <monitor>").
 * Past it the log has stalled (lib/ingest/debug-log-watch.ts).
 */
export const DEBUG_LOG_TOUCH_MS = 1_000;
export const DEBUG_LOG_STALL_MS = 12_000;
