package jp.mamori.access;

/**
 * The stages of a clinical record that the access model decides on (records reads them from the resource's own
 * status, {@code records.Lifecycle}): a draft changes freely; a final, amended or entered-in-error record is
 * locked, so any change of it is an amendment that needs the AMEND permission and a reason.
 */
public final class Stage {
    public static final String DRAFT = "draft";
    public static final String FINAL = "final";
    public static final String AMENDED = "amended";
    public static final String ENTERED_IN_ERROR = "entered-in-error";

    private Stage() {
    }

    /** A record in this stage changes only as an amendment, with a reason. */
    public static boolean isLocked(String stage) {
        return FINAL.equals(stage) || AMENDED.equals(stage) || ENTERED_IN_ERROR.equals(stage);
    }
}
