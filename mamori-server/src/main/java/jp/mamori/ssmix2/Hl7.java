package jp.mamori.ssmix2;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.Location;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * HL7 v2.5 through HAPI HL7v2: messages parsed into the v2.5 structures whatever version they claim (SS-MIX2 is
 * v2.5), and our small helpers to read and write a field's component. The library checks the syntax; what a field
 * means is our mapping's business ({@link ToFhir}, {@link FromFhir}).
 */
final class Hl7 {
    /** Times without an offset are Japan's (SS-MIX2 writes local times). */
    static final ZoneId JST = ZoneId.of("Asia/Tokyo");

    private final HapiContext context;
    private final PipeParser parser;

    Hl7() {
        context = new DefaultHapiContext();
        context.setModelClassFactory(new CanonicalModelClassFactory("2.5"));
        context.setValidationContext(ValidationContextFactory.noValidation());
        parser = context.getPipeParser();
    }

    /** A message refused, with where (segment and field when known) and why. */
    static final class Refused extends Exception {
        final String where;

        Refused(String where, String why) {
            super(why);
            this.where = where;
        }
    }

    Message parse(String text) throws Refused {
        String normalized = text.replace("\r\n", "\r").replace('\n', '\r').strip();
        if (!normalized.startsWith("MSH|")) {
            throw new Refused("MSH", "MSH セグメントで始まっていません / the message does not start with an MSH segment");
        }
        try {
            return parser.parse(normalized);
        } catch (HL7Exception e) {
            throw new Refused(where(e.getLocation()), "HL7 v2 として読めません / not a valid HL7 v2 message: "
                    + oneLine(e.getMessage()));
        } catch (RuntimeException e) {
            throw new Refused("-", "HL7 v2 として読めません / not a valid HL7 v2 message: " + oneLine(e.toString()));
        }
    }

    String encode(Message m) throws HL7Exception {
        return parser.encode(m);
    }

    PipeParser parser() {
        return parser;
    }

    static String where(Location l) {
        if (l == null || l.isUnknown() || l.getSegmentName() == null) {
            return "-";
        }
        return l.getField() > 0 ? l.getSegmentName() + "-" + l.getField() : l.getSegmentName();
    }

    static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        String one = s.replace('\r', ' ').replace('\n', ' ');
        return one.length() > 300 ? one.substring(0, 300) + "…" : one;
    }

    /** Component {@code component} (from 1) of repetition {@code rep} (from 0) of field {@code field}; null if empty. */
    static String get(Segment s, int field, int rep, int component) {
        try {
            if (rep > 0 && s.getField(field).length <= rep) {
                return null;
            }
            String v = Terser.get(s, field, rep, component, 1);
            return v == null || v.isBlank() ? null : v.strip();
        } catch (HL7Exception e) {
            return null;
        }
    }

    static String get(Segment s, int field, int component) {
        return get(s, field, 0, component);
    }

    static int reps(Segment s, int field) {
        try {
            return s.getField(field).length;
        } catch (HL7Exception e) {
            return 0;
        }
    }

    static void set(Segment s, int field, int rep, int component, String value) throws HL7Exception {
        if (value != null && !value.isEmpty()) {
            for (int r = 0; r < rep; r++) {
                s.getField(field, r); // the repetitions before it, empty
            }
            Terser.set(s, field, rep, component, 1, value);
        }
    }

    static void set(Segment s, int field, int component, String value) throws HL7Exception {
        set(s, field, 0, component, value);
    }

    /** An HL7 DTM as a FHIR dateTime (with Japan's offset when it has none), or null when empty. */
    static String dateTime(String dtm, String where) throws Refused {
        if (dtm == null) {
            return null;
        }
        String d = dtm.strip();
        try {
            int plus = Math.max(d.indexOf('+'), d.indexOf('-'));
            ZoneOffset offset = null;
            if (plus > 0) {
                offset = ZoneOffset.of(d.substring(plus, plus + 3) + ":" + d.substring(plus + 3));
                d = d.substring(0, plus);
            }
            int dot = d.indexOf('.');
            String fraction = dot > 0 ? d.substring(dot + 1) : "";
            String main = dot > 0 ? d.substring(0, dot) : d;
            if (main.length() == 8) {
                return LocalDate.parse(main, DateTimeFormatter.BASIC_ISO_DATE).toString();
            }
            if (main.length() == 4 || main.length() == 6) {
                return main.length() == 4 ? main : main.substring(0, 4) + "-" + main.substring(4, 6);
            }
            String padded = (main + "000000").substring(0, 14);
            LocalDateTime t = LocalDateTime.parse(padded, DateTimeFormatter.ofPattern("yyyyMMddHHmmss"));
            if (!fraction.isEmpty()) {
                t = t.plusNanos(Long.parseLong((fraction + "000000000").substring(0, 9)));
            }
            OffsetDateTime o = t.atZone(JST).toOffsetDateTime();
            if (offset != null) {
                o = t.atOffset(offset);
            }
            return o.format(DateTimeFormatter.ofPattern(o.getNano() == 0 ? "yyyy-MM-dd'T'HH:mm:ssXXX"
                    : "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"));
        } catch (RuntimeException e) {
            throw new Refused(where, "日時が不正です / not an HL7 date/time: " + dtm);
        }
    }

    /**
     * A FHIR date or dateTime as an HL7 DTM with the same precision: a date stays a date ({@code yyyyMMdd}), a time is
     * written in Japan's time ({@code yyyyMMddHHmmss}, with milliseconds when it has them).
     */
    static String hl7Time(org.hl7.fhir.r4.model.BaseDateTimeType t) {
        if (t == null || t.getValue() == null) {
            return null;
        }
        switch (t.getPrecision()) {
            case YEAR, MONTH, DAY -> {
                return t.getValueAsString().replace("-", "");
            }
            default -> {
                LocalDateTime local = t.getValue().toInstant().atZone(JST).toLocalDateTime();
                String s = local.format(DateTimeFormatter.ofPattern("yyyyMMddHHmmss"));
                int millis = local.getNano() / 1_000_000;
                return millis == 0 ? s : s + "." + String.format("%03d", millis);
            }
        }
    }
}
