package jp.mamori.signatures;

/**
 * The one way signing, time-stamping, extending or opening a signer key fails: a reason code the caller can act on
 * and a message "日本語 / English" that can be shown to a person as it is (no stack trace, no library text). When
 * this is thrown nothing has been produced: there is no half-signed output (issue 17, SIGN-1, SIGN-6).
 */
public final class SignatureFailure extends RuntimeException {
    /** Why it failed. The message of each is what a person reads. */
    public enum Reason {
        NO_PIN("PIN が入力されていません。署名には PIN が必要です / no PIN was given: signing needs the PIN"),
        WRONG_PIN("PIN が正しくありません / the PIN is wrong"),
        TOKEN_LOCKED("IC カード(トークン)がロックされています。発行元で解除してください / the card or token is locked: "
                + "have its issuer unlock it"),
        TOKEN_NOT_FOUND("IC カード(トークン)が見つかりません / the card or token was not found"),
        KEY_NOT_FOUND("署名鍵または証明書が見つかりません / the signing key or its certificate was not found"),
        KEY_FILE_UNREADABLE("署名鍵ファイルを読めません / the signing key file cannot be read"),
        CERTIFICATE_EXPIRED("署名者の証明書は有効期間外です / the signer's certificate is expired or not yet valid"),
        CERTIFICATE_REVOKED("署名者の証明書は失効しています / the signer's certificate is revoked"),
        CERTIFICATE_NOT_TRUSTED("署名者の証明書は信頼する認証局のものではありません / the signer's certificate does not "
                + "chain to a trusted root"),
        CERTIFICATE_NOT_FOR_SIGNING("この証明書は電子署名用ではありません(鍵用途に否認防止がありません) / this certificate is "
                + "not for signatures (its key usage lacks non-repudiation)"),
        REVOCATION_UNAVAILABLE("証明書の失効情報(CRL・OCSP)を得られません / the revocation status (CRL, OCSP) of a "
                + "certificate cannot be obtained"),
        TSA_UNAVAILABLE("タイムスタンプ局が応答しないか、正しくない応答を返しました / the time-stamping authority did not "
                + "answer or answered wrongly"),
        NOT_A_SIGNATURE("署名データとして読めません / this is not a readable signature"),
        DOCUMENT_MISMATCH("署名は この文書に対するものではありません / the signature is not over this document"),
        SETTINGS("署名の設定が正しくありません / the signature settings are not valid"),
        NOT_THE_AUTHOR("証明書の氏名が署名者のアカウントと一致しません / the certificate names another person than the"
                + " signer's account"),
        QUALIFICATION_MISMATCH("証明書の資格(hcRole)がアカウントに登録された資格と一致しません / the certificate's HPKI"
                + " role is not a qualification recorded for the account"),
        NO_SIGNING_KEY("署名鍵が登録されていません / no signing key is registered for this person"),
        SIGNATURE_REQUIRED("確定保存には電子署名が必要です(PIN を入力してください) / finalizing needs the signer's"
                + " signature: give the PIN"),
        FAILED("署名処理に失敗しました / signing failed");

        private final String message;

        Reason(String message) {
            this.message = message;
        }

        /** The "日本語 / English" text of this reason. */
        public String message() {
            return message;
        }
    }

    private final Reason reason;

    public SignatureFailure(Reason reason) {
        super(reason.message());
        this.reason = reason;
    }

    /** A reason with a detail (already "日本語 / English", or a name such as a file or label) appended. */
    public SignatureFailure(Reason reason, String detail) {
        super(reason.message() + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.reason = reason;
    }

    public SignatureFailure(Reason reason, String detail, Throwable cause) {
        super(reason.message() + (detail == null || detail.isBlank() ? "" : ": " + detail), cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
