package jp.mamori.records;

import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.fhirpath.IFhirPath;
import ca.uhn.fhir.fhirpath.IFhirPathEvaluationContext;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CanonicalType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.Enumeration;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Money;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Timing;
import org.hl7.fhir.r4.model.UriType;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import jp.mamori.kernel.TextNormalizer;

/**
 * Extracts the values of every R4 search parameter of a resource, by evaluating the parameter's FHIRPath
 * expression, into {@link IndexRows}. All resource types and all their standard parameters are covered,
 * not a hand-picked list.
 */
public final class SearchIndexer {
    /** One indexable parameter of a resource type. */
    record Param(String name, RestSearchParameterTypeEnum type, String path) {
    }

    /** Answered from the resource table itself, or not searchable by value. */
    private static final java.util.Set<String> NOT_INDEXED = java.util.Set.of("_id", "_lastUpdated", "_text",
            "_content", "_list", "_has", "_query", "_filter");

    private final Map<String, List<Param>> paramsByType = new ConcurrentHashMap<>();
    /**
     * One FHIRPath engine for all threads: each engine builds its own view of the R4 definitions (tens of
     * MB), so one per request thread exhausts the heap. Evaluation does not modify the engine, and HAPI's
     * own server shares one the same way; parsed expressions are shared too.
     */
    private static final Engine ENGINE = new Engine();

    private static final class Engine {
        final IFhirPath fhirPath = FhirSupport.CTX.newFhirPath();
        final Map<String, IFhirPath.IParsedExpression> parsed = new ConcurrentHashMap<>();

        Engine() {
            fhirPath.setEvaluationContext(new IFhirPathEvaluationContext() {
                @Override
                public IBase resolveReference(IIdType ref, IBase context) {
                    // resolve() is used in search paths only to test the target type ("resolve() is Patient").
                    if (ref == null || !ref.hasResourceType() || !FhirSupport.isResourceType(ref.getResourceType())) {
                        return null;
                    }
                    IBaseResource r = FhirSupport.CTX.getResourceDefinition(ref.getResourceType()).newInstance();
                    r.setId(ref);
                    return r;
                }
            });
        }

        List<IBase> evaluate(IBaseResource res, String path) {
            IFhirPath.IParsedExpression e = parsed.computeIfAbsent(path, p -> {
                try {
                    return fhirPath.parse(p);
                } catch (Exception ex) {
                    throw new IllegalStateException("cannot parse search path " + p, ex);
                }
            });
            return fhirPath.evaluate(res, e, IBase.class);
        }
    }

    /** The parameters of {@code type} that have a path and are indexed. */
    List<Param> params(String type) {
        return paramsByType.computeIfAbsent(type, t -> {
            RuntimeResourceDefinition def = FhirSupport.CTX.getResourceDefinition(t);
            List<Param> out = new ArrayList<>();
            for (RuntimeSearchParam sp : def.getSearchParams()) {
                String path = sp.getPath();
                if (path == null || path.isBlank() || sp.getParamType() == RestSearchParameterTypeEnum.COMPOSITE
                        || sp.getParamType() == RestSearchParameterTypeEnum.SPECIAL
                        || NOT_INDEXED.contains(sp.getName())) {
                    continue;
                }
                out.add(new Param(sp.getName(), sp.getParamType(), path));
            }
            return List.copyOf(out);
        });
    }

    public IndexRows extract(IBaseResource res) {
        String type = FhirSupport.CTX.getResourceType(res);
        IndexRows rows = new IndexRows();
        Engine engine = ENGINE;
        for (Param p : params(type)) {
            List<IBase> values;
            try {
                values = engine.evaluate(res, p.path());
            } catch (RuntimeException e) {
                continue; // a path that does not apply to this instance indexes nothing
            }
            for (IBase v : values) {
                add(rows, p, v);
            }
        }
        if (res instanceof org.hl7.fhir.r4.model.Encounter e) {
            places(rows, e);
        }
        return rows;
    }

    /**
     * The departments and wards an encounter belongs to, for care relationships (ACCESS-1): the names in
     * {@code serviceType} (text and coding displays), {@code serviceProvider.display} and each
     * {@code location.location.display}, NFKC-normalised and trimmed as department names in role assignments
     * are. Planned, arrived, triaged, in-progress and on-leave encounters last (no end); a finished one ends at
     * {@code period.end} (else its start, else its last update); cancelled, entered-in-error and unknown ones
     * relate nobody.
     */
    private static void places(IndexRows rows, org.hl7.fhir.r4.model.Encounter e) {
        if (!e.hasSubject() || !e.getSubject().hasReferenceElement()) {
            return;
        }
        IIdType subject = e.getSubject().getReferenceElement();
        if (!"Patient".equals(subject.getResourceType()) || subject.getIdPart() == null || subject.isAbsolute()) {
            return;
        }
        java.time.OffsetDateTime starts = e.getPeriod().hasStart() ? odt(e.getPeriod().getStartElement()) : null;
        java.time.OffsetDateTime ends;
        var status = e.getStatus();
        if (status == null) {
            return;
        }
        switch (status) {
            case PLANNED, ARRIVED, TRIAGED, INPROGRESS, ONLEAVE -> ends = null;
            case FINISHED -> {
                if (e.getPeriod().hasEnd()) {
                    ends = odt(e.getPeriod().getEndElement());
                } else if (starts != null) {
                    ends = starts;
                } else if (e.getMeta().hasLastUpdated()) {
                    ends = e.getMeta().getLastUpdated().toInstant().atOffset(java.time.ZoneOffset.UTC);
                } else {
                    return;
                }
            }
            default -> {
                return;
            }
        }
        Set<String> names = new java.util.LinkedHashSet<>();
        for (CodeableConcept cc : List.of(e.getServiceType())) {
            names.add(cc.getText());
            for (Coding coding : cc.getCoding()) {
                names.add(coding.getDisplay());
            }
        }
        names.add(e.getServiceProvider().getDisplay());
        for (var l : e.getLocation()) {
            names.add(l.getLocation().getDisplay());
        }
        for (String n : names) {
            String place = jp.mamori.kernel.TextNormalizer.placeName(n);
            if (place != null) {
                rows.places.add(new IndexRows.Place(subject.getIdPart(), place, starts, ends));
            }
        }
    }

    private static java.time.OffsetDateTime odt(BaseDateTimeType t) {
        return DateRanges.instant(t);
    }

    private static void add(IndexRows rows, Param p, IBase v) {
        switch (p.type()) {
            case STRING -> strings(rows, p.name(), v);
            case TOKEN -> tokens(rows, p.name(), v);
            case DATE -> dates(rows, p.name(), v);
            case REFERENCE -> references(rows, p.name(), v);
            case QUANTITY, NUMBER -> quantities(rows, p.name(), v);
            case URI -> {
                if (v instanceof IPrimitiveType<?> u && u.getValueAsString() != null) {
                    rows.uris.add(new IndexRows.Uri(p.name(), u.getValueAsString()));
                }
            }
            default -> {
            }
        }
    }

    private static void str(IndexRows rows, String param, String s) {
        if (s != null && !s.isBlank()) {
            // at most 2,000 UTF-16 units, without splitting a character outside the BMP (𠮷, 𥔎)
            int cut = s.length() <= 2000 ? s.length() : Character.isHighSurrogate(s.charAt(1999)) ? 1999 : 2000;
            String written = s.substring(0, cut);
            // Both index values go through the one normaliser that queries go through (ADR 0003); the
            // resource itself keeps the characters as written.
            rows.strings.add(new IndexRows.Str(param, TextNormalizer.normalize(written),
                    TextNormalizer.canonical(written)));
        }
    }

    private static void strings(IndexRows rows, String param, IBase v) {
        if (v instanceof HumanName n) {
            str(rows, param, n.getFamily());
            n.getGiven().forEach(g -> str(rows, param, g.getValue()));
            n.getPrefix().forEach(g -> str(rows, param, g.getValue()));
            n.getSuffix().forEach(g -> str(rows, param, g.getValue()));
            str(rows, param, n.getText());
        } else if (v instanceof Address a) {
            a.getLine().forEach(l -> str(rows, param, l.getValue()));
            str(rows, param, a.getCity());
            str(rows, param, a.getDistrict());
            str(rows, param, a.getState());
            str(rows, param, a.getPostalCode());
            str(rows, param, a.getCountry());
            str(rows, param, a.getText());
        } else if (v instanceof IPrimitiveType<?> prim) {
            str(rows, param, prim.getValueAsString());
        }
    }

    private static void token(IndexRows rows, String param, String system, String code, String display) {
        if (code != null && !code.isBlank()) {
            rows.tokens.add(new IndexRows.Token(param, system, code, display));
        }
    }

    private static void tokens(IndexRows rows, String param, IBase v) {
        if (v instanceof CodeableConcept cc) {
            for (Coding c : cc.getCoding()) {
                token(rows, param, c.getSystem(), c.getCode(), c.getDisplay());
            }
        } else if (v instanceof Coding c) {
            token(rows, param, c.getSystem(), c.getCode(), c.getDisplay());
        } else if (v instanceof Identifier id) {
            token(rows, param, id.getSystem(), id.getValue(), null);
        } else if (v instanceof ContactPoint cp) {
            String value = cp.getValue();
            token(rows, param, cp.hasSystem() ? cp.getSystem().toCode() : null, value, null);
            if (value != null) {
                String digits = value.replaceAll("[^0-9+]", "");
                if (!digits.equals(value)) {
                    token(rows, param, cp.hasSystem() ? cp.getSystem().toCode() : null, digits, null);
                }
            }
        } else if (v instanceof Enumeration<?> e) {
            token(rows, param, e.getSystem(), e.getValueAsString(), null);
        } else if (v instanceof BooleanType b && b.getValue() != null) {
            token(rows, param, null, b.getValue().toString(), null);
        } else if (v instanceof IPrimitiveType<?> prim) {
            token(rows, param, null, prim.getValueAsString(), null);
        }
    }

    private static void dates(IndexRows rows, String param, IBase v) {
        if (v instanceof BaseDateTimeType d) {
            DateRanges.Range r = DateRanges.of(d);
            if (r != null) {
                rows.dates.add(new IndexRows.Date(param, r.lo(), r.hi()));
            }
        } else if (v instanceof Period per) {
            DateRanges.Range s = per.hasStart() ? DateRanges.of(per.getStartElement()) : null;
            DateRanges.Range e = per.hasEnd() ? DateRanges.of(per.getEndElement()) : null;
            if (s != null || e != null) {
                rows.dates.add(new IndexRows.Date(param, s == null ? DateRanges.MIN : s.lo(),
                        e == null ? DateRanges.MAX : e.hi()));
            }
        } else if (v instanceof Timing t) {
            t.getEvent().forEach(ev -> dates(rows, param, ev));
        }
    }

    private static void references(IndexRows rows, String param, IBase v) {
        if (v instanceof Reference ref) {
            IIdType id = ref.getReferenceElement();
            if (id == null || id.isEmpty() || id.isLocal()) {
                return;
            }
            if (id.isAbsolute()) {
                rows.refs.add(new IndexRows.Ref(param, id.getResourceType(), id.getIdPart(), id.getValue()));
            } else if (id.hasResourceType() && id.hasIdPart()) {
                rows.refs.add(new IndexRows.Ref(param, id.getResourceType(), id.getIdPart(), null));
            }
        } else if (v instanceof CanonicalType c && c.getValue() != null) {
            rows.refs.add(new IndexRows.Ref(param, null, null, c.getValue()));
        } else if (v instanceof UriType u && u.getValue() != null) {
            rows.refs.add(new IndexRows.Ref(param, null, null, u.getValue()));
        }
    }

    private static void quantities(IndexRows rows, String param, IBase v) {
        if (v instanceof Quantity q && q.getValue() != null) {
            String code = q.hasCode() ? q.getCode() : q.getUnit();
            rows.quantities.add(new IndexRows.Quantity(param, q.getValue(), q.getSystem(), code));
        } else if (v instanceof Money m && m.getValue() != null) {
            rows.quantities.add(new IndexRows.Quantity(param, m.getValue(), "urn:iso:std:iso:4217", m.getCurrency()));
        } else if (v instanceof DecimalType d && d.getValue() != null) {
            rows.quantities.add(new IndexRows.Quantity(param, d.getValue(), null, null));
        } else if (v instanceof IntegerType i && i.getValue() != null) {
            rows.quantities.add(new IndexRows.Quantity(param, BigDecimal.valueOf(i.getValue()), null, null));
        } else if (v instanceof StringType) {
            // not a quantity
        }
    }
}
