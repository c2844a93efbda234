package jp.mamori.maintenance;

/** A refused change or request of vendor maintenance, with one line for the person ("日本語 / English"). */
public final class MaintenanceException extends RuntimeException {
    public MaintenanceException(String message) {
        super(message, null, false, false);
    }
}
