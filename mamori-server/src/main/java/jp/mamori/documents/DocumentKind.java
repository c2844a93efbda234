package jp.mamori.documents;

import java.util.List;

/**
 * The national documents Mamori writes (JP-CLINS, the documents of the electronic-record sharing service; issue 23):
 * their LOINC document type, the JP-CLINS profiles they name, and the section codes they must carry.
 *
 * <p>Codes as published with JP-CLINS: document types in {@code http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes}
 * (57133-1 診療情報提供書, 18842-5 退院時サマリー, the LOINC codes), sections in
 * {@code http://jpfhir.jp/fhir/clins/CodeSystem/document-section} (910 紹介先情報, 920 紹介元情報, 300 構造情報 with its
 * sub-sections …). docs/documents.md lists what was relied on.
 */
public enum DocumentKind {
    REFERRAL("57133-1", "診療情報提供書", "referral letter", "http://jpfhir.jp/fhir/eReferral/StructureDefinition/",
            "eReferral",
            List.of(Section.REFERRAL_TO, Section.REFERRAL_FROM, Section.STRUCTURED),
            List.of(Section.PURPOSE, Section.PROBLEMS)),
    DISCHARGE("18842-5", "退院時サマリー", "discharge summary",
            "http://jpfhir.jp/fhir/eDischargeSummary/StructureDefinition/", "eDischargeSummary",
            List.of(Section.STRUCTURED),
            List.of(Section.REASON_FOR_ADMISSION, Section.ADMISSION_DIAGNOSES, Section.HOSPITAL_COURSE,
                    Section.DISCHARGE_DETAILS, Section.DISCHARGE_DIAGNOSES, Section.DISCHARGE_MEDICATIONS,
                    Section.DISCHARGE_INSTRUCTIONS));

    public static final String DOC_TYPE_SYSTEM = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";
    public static final String SECTION_SYSTEM = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";

    public final String code;
    public final String ja;
    public final String en;
    private final String profileBase;
    private final String profileSuffix;
    /** Top-level sections it must have, by code. */
    public final List<Section> requiredTop;
    /** Sub-sections of 構造情報 (300) it must have. */
    public final List<Section> requiredStructured;

    DocumentKind(String code, String ja, String en, String profileBase, String profileSuffix, List<Section> requiredTop,
                 List<Section> requiredStructured) {
        this.code = code;
        this.ja = ja;
        this.en = en;
        this.profileBase = profileBase;
        this.profileSuffix = profileSuffix;
        this.requiredTop = requiredTop;
        this.requiredStructured = requiredStructured;
    }

    public String bundleProfile() {
        return profileBase + "JP_Bundle_" + profileSuffix;
    }

    public String compositionProfile() {
        return profileBase + "JP_Composition_" + profileSuffix;
    }

    /** By its URL name ({@code referral}, {@code discharge}), or null. */
    public static DocumentKind of(String name) {
        for (DocumentKind k : values()) {
            if (k.name().equalsIgnoreCase(name)) {
                return k;
            }
        }
        return null;
    }

    public static DocumentKind ofCode(String code) {
        for (DocumentKind k : values()) {
            if (k.code.equals(code)) {
                return k;
            }
        }
        return null;
    }

    /** JP-CLINS section codes used here (document-section code system). */
    public enum Section {
        REFERRAL_TO("910", "紹介先情報"),
        REFERRAL_FROM("920", "紹介元情報"),
        STRUCTURED("300", "構造情報"),
        REMARKS("220", "備考・連絡情報"),
        PURPOSE("950", "紹介目的"),
        PROBLEMS("340", "傷病名・主訴"),
        PRESENT_ILLNESS("360", "現病歴"),
        PAST_ILLNESS("370", "既往歴"),
        ALLERGIES("510", "アレルギー・不耐性反応"),
        INFECTIONS("520", "感染症情報"),
        CLINICAL_COURSE("330", "臨床経過"),
        INSTRUCTIONS("420", "診療方針指示"),
        MEDICATIONS("430", "投薬指示"),
        RESULTS("620", "検査結果"),
        REASON_FOR_ADMISSION("312", "入院理由"),
        ADMISSION_DETAILS("322", "入院時詳細"),
        ADMISSION_DIAGNOSES("342", "入院時診断"),
        CHIEF_COMPLAINTS("352", "主訴"),
        HOSPITAL_COURSE("333", "入院中経過"),
        DISCHARGE_DETAILS("324", "退院時詳細"),
        DISCHARGE_DIAGNOSES("344", "退院時診断"),
        DISCHARGE_MEDICATIONS("444", "退院時投薬指示"),
        DISCHARGE_INSTRUCTIONS("424", "退院時方針指示"),
        HOSPITAL_RESULTS("623", "入院中検査結果");

        public final String code;
        public final String title;

        Section(String code, String title) {
            this.code = code;
            this.title = title;
        }

        public String display() {
            return title + "セクション";
        }

        public static Section ofCode(String code) {
            for (Section s : values()) {
                if (s.code.equals(code)) {
                    return s;
                }
            }
            return null;
        }
    }
}
