package jp.mamori.access;

/**
 * The outcome of one authorization decision.
 *
 * @param permitted  whether the action may go ahead
 * @param reason     why, or what is missing, in "日本語 / English"
 * @param breakGlass true when the only thing missing is the care relationship, so an emergency access
 *                   (break-glass, recorded and reviewed) would permit it
 */
record Decision(boolean permitted, String reason, boolean breakGlass) {
    static Decision permit(String reason) {
        return new Decision(true, reason, false);
    }

    static Decision deny(String reason) {
        return new Decision(false, reason, false);
    }

    static Decision denyButBreakGlass(String reason) {
        return new Decision(false, reason, true);
    }
}
