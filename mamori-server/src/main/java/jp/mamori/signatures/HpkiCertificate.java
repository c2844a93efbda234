package jp.mamori.signatures;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1Set;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.Attribute;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectDirectoryAttributes;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What an HPKI signing certificate says about its holder: the name and the healthcare role (hcRole), so that the
 * qualification, not only the identity, can be checked against the account (SIGN-5).
 *
 * <p>Where the role is: ISO/TS 17090-3 puts it in the subjectDirectoryAttributes extension (2.5.29.9) as the
 * attribute {@value #HC_ROLE_ATTRIBUTE} (id-hcpki-at-healthcareactor, HCActorData: a SET OF HCActor, each with
 * CodedData {codingSchemeReference OID, codeDataValue UTF8String, codeDataFreeText}); the MHLW HPKI certificate
 * policy (保健医療福祉分野PKI認証局 署名用証明書ポリシ, table 7.1.2) uses it with the Japanese coding scheme
 * {@value #JP_HC_ROLE_SCHEME} and English names of the national qualification ("Medical Doctor", "Dentist",
 * "Pharmacist", ...). The reader is tolerant of the tagging (explicit or implicit) and takes the first code value;
 * see docs/adr/0012 for the sources and what must still be checked against real cards.
 *
 * @param name     the holder's name (the subject's common name, else surname and given name)
 * @param roleCode the hcRole code value as written in the certificate, or empty when there is none
 * @param roleLabel the Japanese label of the role (医師, 歯科医師, ...), or the code itself when unknown
 */
public record HpkiCertificate(String name, Optional<String> roleCode, Optional<String> roleLabel) {
    /** ISO/TS 17090 id-hcpki-at-healthcareactor: the hcRole attribute in subjectDirectoryAttributes. */
    public static final String HC_ROLE_ATTRIBUTE = "1.0.17090.0.1";
    /** The coding scheme of Japan's HPKI national qualifications (MHLW HPKI certificate policy). */
    public static final String JP_HC_ROLE_SCHEME = "1.2.392.100495.1.6.1.1";

    /** The English code values of the MHLW HPKI policy and their Japanese names. */
    static final Map<String, String> LABELS = Map.ofEntries(
            Map.entry("medical doctor", "医師"),
            Map.entry("dentist", "歯科医師"),
            Map.entry("pharmacist", "薬剤師"),
            Map.entry("public health nurse", "保健師"),
            Map.entry("midwife", "助産師"),
            Map.entry("nurse", "看護師"),
            Map.entry("assistant nurse", "准看護師"),
            Map.entry("radiological technologist", "診療放射線技師"),
            Map.entry("clinical laboratory technologist", "臨床検査技師"),
            Map.entry("physical therapist", "理学療法士"),
            Map.entry("occupational therapist", "作業療法士"),
            Map.entry("orthoptist", "視能訓練士"),
            Map.entry("speech therapist", "言語聴覚士"),
            Map.entry("dental hygienist", "歯科衛生士"),
            Map.entry("dental technician", "歯科技工士"),
            Map.entry("clinical engineer", "臨床工学技士"),
            Map.entry("prosthetist and orthotist", "義肢装具士"),
            Map.entry("emergency life-saving technician", "救急救命士"),
            Map.entry("registered dietitian", "管理栄養士"),
            Map.entry("dietitian", "栄養士"),
            Map.entry("certified social worker", "社会福祉士"),
            Map.entry("certified care worker", "介護福祉士"),
            Map.entry("psychiatric social worker", "精神保健福祉士"),
            Map.entry("certified public psychologist", "公認心理師"),
            Map.entry("director of hospital", "病院長"),
            Map.entry("director of clinic", "診療所院長"),
            Map.entry("director of pharmacy", "管理薬剤師"));

    /** Reads the holder's name and hcRole from a certificate; never throws on a malformed extension (no role). */
    public static HpkiCertificate of(X509Certificate certificate) {
        String name = nameOf(certificate);
        Optional<String> code = roleOf(certificate);
        return new HpkiCertificate(name, code, code.map(c -> LABELS.getOrDefault(c.toLowerCase(Locale.ROOT).strip(), c)));
    }

    /** Whether the certificate's role is this one (code compared without case, e.g. "Medical Doctor"). */
    public boolean hasRole(String code) {
        return roleCode.map(c -> c.strip().equalsIgnoreCase(code.strip())).orElse(false);
    }

    private static String nameOf(X509Certificate certificate) {
        X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        RDN[] cn = subject.getRDNs(BCStyle.CN);
        if (cn.length > 0) {
            return IETFUtils.valueToString(cn[0].getFirst().getValue());
        }
        List<String> parts = new ArrayList<>();
        for (ASN1ObjectIdentifier type : List.of(BCStyle.SURNAME, BCStyle.GIVENNAME)) {
            for (RDN r : subject.getRDNs(type)) {
                parts.add(IETFUtils.valueToString(r.getFirst().getValue()));
            }
        }
        return parts.isEmpty() ? subject.toString() : String.join(" ", parts);
    }

    private static Optional<String> roleOf(X509Certificate certificate) {
        byte[] ext = certificate.getExtensionValue(Extension.subjectDirectoryAttributes.getId());
        if (ext == null) {
            return Optional.empty();
        }
        try {
            SubjectDirectoryAttributes sda = SubjectDirectoryAttributes.getInstance(
                    ASN1OctetString.getInstance(ext).getOctets());
            for (Object o : sda.getAttributes()) {
                Attribute a = Attribute.getInstance(o);
                if (!a.getAttrType().getId().equals(HC_ROLE_ATTRIBUTE)) {
                    continue;
                }
                for (ASN1Encodable value : a.getAttributeValues()) {
                    Optional<String> s = firstString(value.toASN1Primitive(), 0);
                    if (s.isPresent()) {
                        return s;
                    }
                }
            }
        } catch (RuntimeException malformed) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** The first string in the structure, depth first (the codeDataValue comes before the free text). */
    private static Optional<String> firstString(ASN1Primitive p, int depth) {
        if (depth > 8) {
            return Optional.empty();
        }
        if (p instanceof ASN1String s) {
            String v = s.getString().strip();
            return v.isEmpty() ? Optional.empty() : Optional.of(v);
        }
        if (p instanceof ASN1TaggedObject t) {
            ASN1Primitive inner = t.getBaseObject().toASN1Primitive();
            if (inner instanceof ASN1OctetString implicitString) {
                // An implicitly tagged UTF8String reads as the octets of its text.
                String v = new String(implicitString.getOctets(), java.nio.charset.StandardCharsets.UTF_8).strip();
                return v.isEmpty() || v.chars().anyMatch(Character::isISOControl) ? Optional.empty() : Optional.of(v);
            }
            return firstString(inner, depth + 1);
        }
        Iterable<ASN1Encodable> children = p instanceof ASN1Sequence q ? q : p instanceof ASN1Set st ? st : null;
        if (children != null) {
            for (ASN1Encodable c : children) {
                Optional<String> s = firstString(c.toASN1Primitive(), depth + 1);
                if (s.isPresent()) {
                    return s;
                }
            }
        }
        return Optional.empty();
    }
}
