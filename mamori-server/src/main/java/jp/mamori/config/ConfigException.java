package jp.mamori.config;

/** A setting that cannot work. Its message names the setting and how to fix it, in one line. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
