package jp.mamori.access;

/** What a person does with information of one category (ACCESS-1: 参照・更新・実行・追加 and finer). */
public enum Action {
    READ("read", "参照", "read"),
    SEARCH("search", "検索", "search"),
    CREATE("create", "作成", "create"),
    UPDATE("update", "更新", "update"),
    FINALIZE("finalize", "確定", "finalize"),
    AMEND("amend", "修正", "amend"),
    ENTER_IN_ERROR("entered_in_error", "誤入力の取消", "mark entered-in-error"),
    EXPORT("export", "出力", "export"),
    PRINT("print", "印刷", "print"),
    /**
     * Entering a record on behalf of someone who may finalize it, for their approval (代行入力, issue 18): which
     * people is decided by {@link AccessPolicy#mayEnterFor}.
     */
    PROXY_ENTRY("proxy_entry", "代行入力", "enter on behalf");

    /** The code stored in {@code role_permission.action}. */
    public final String code;
    public final String ja;
    public final String en;

    Action(String code, String ja, String en) {
        this.code = code;
        this.ja = ja;
        this.en = en;
    }

    public static Action of(String code) {
        for (Action a : values()) {
            if (a.code.equals(code)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown action " + code);
    }
}
