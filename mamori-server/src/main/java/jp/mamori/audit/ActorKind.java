package jp.mamori.audit;

/** Who acted, by kind: a person (an account), a system client, the server itself, or nobody authenticated. */
public enum ActorKind {
    PERSON("person"), CLIENT("client"), SYSTEM("system"), ANONYMOUS("anonymous");

    /** As stored in the entry's {@code kind}. */
    public final String code;

    ActorKind(String code) {
        this.code = code;
    }
}
