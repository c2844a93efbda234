package jp.mamori.smart;

/**
 * Why the authorization server refused something a page asked of it. Three kinds, so that a page cannot confuse them:
 * an authorization request that cannot be trusted to go back to the app ({@link Shown}: unknown or disabled app,
 * redirect URI not registered exactly; shown to the person, never redirected, RFC 6749 §4.1.2.1), one that goes back
 * to the app with an OAuth error ({@link Redirected}), and an administrator's input that is not right ({@link Invalid}).
 * Messages are Japanese first, with English.
 */
public abstract sealed class SmartRefusal extends RuntimeException {
    SmartRefusal(String message) {
        super(message);
    }

    /** Shown on the page; nothing goes to the app. */
    public static final class Shown extends SmartRefusal {
        public Shown(String message) {
            super(message);
        }
    }

    /** Goes back to the app's registered redirect URI as {@code error}, {@code error_description} and {@code state}. */
    public static final class Redirected extends SmartRefusal {
        private final String location;

        Redirected(String message, String location) {
            super(message);
            this.location = location;
        }

        /** The app's redirect URI with the error. */
        public String location() {
            return location;
        }
    }

    /** An administrator's input that cannot be registered. */
    public static final class Invalid extends SmartRefusal {
        public Invalid(String message) {
            super(message);
        }
    }
}
