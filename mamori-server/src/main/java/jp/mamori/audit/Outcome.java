package jp.mamori.audit;

/** How the recorded event ended. */
public enum Outcome {
    /** Done (and, for a read, answered with data). */
    SUCCESS("success"),
    /** Refused: not authenticated, not permitted, or nothing there that the actor may see. */
    REFUSED("refused"),
    /** The request itself was wrong (a bad parameter, an invalid resource). */
    INVALID("invalid"),
    /** The server failed. */
    ERROR("error");

    /** As stored in the entry's {@code outcome}. */
    public final String code;

    Outcome(String code) {
        this.code = code;
    }

    /** Success or error: how a check or a run of the server's own ended. */
    public static Outcome of(boolean ok) {
        return ok ? SUCCESS : ERROR;
    }
}
