package jp.mamori.directory;

/** A request the directory capability refuses; the message is "日本語 / English" and is shown as it is. */
public final class DirectoryRefusal extends RuntimeException {
    public DirectoryRefusal(String message) {
        super(message);
    }
}
