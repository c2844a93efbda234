package jp.mamori.access;

/**
 * One information category (情報区分), e.g. demographics or clinical notes. Clinical categories are reached
 * only through a care relationship and only by roles that may hold clinical content.
 */
public record Category(String code, String nameJa, String nameEn, boolean clinical) {
    public Category {
        if (code == null || code.isBlank()) {
            throw new IllegalArgumentException("a category needs a code");
        }
    }

    /** By code alone (codes are unique; the names are long): categories key maps in every access decision. */
    @Override
    public int hashCode() {
        return code.hashCode();
    }

    /** "診療記録 / Clinical notes", for messages. */
    public String label() {
        return nameJa + " / " + nameEn;
    }
}
