package jp.mamori.records;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IDomainResource;
import org.hl7.fhir.instance.model.api.IIdType;

/**
 * HAPI's terser with contained resources gathered for encoding in linear time.
 *
 * <p>Every encoding (the canonical JSON that is stored and hashed, XML answers, {@code _summary}) first
 * gathers the resource's contained resources. HAPI 8.8's {@code ContainedResources.addContained} looks each one
 * up by id among those already gathered with a linear scan, so a resource with n contained resources cost
 * O(n²): 20,000 of them took 52 s to create and 102 s for every XML read; and each local reference
 * ({@code #id}) is checked against them with another linear scan. Here both are hash lookups. The parser options of {@link FhirSupport#CTX} switch off auto-containing of
 * referenced resources without an id, the only other work HAPI does there: Mamori stores what the client sent
 * and never moves a referenced resource into {@code contained} on its own.
 */
final class LinearTerser extends FhirTerser {
    private final FhirContext context;

    LinearTerser(FhirContext context) {
        super(context);
        this.context = context;
    }

    @Override
    public ContainedResources containResources(IBaseResource resource, ContainedResources previous,
                                               boolean storeResult) {
        if (context.getParserOptions().isAutoContainReferenceTargetsWithNoId()
                || !(resource instanceof IDomainResource domain)) {
            return super.containResources(resource, previous, storeResult);
        }
        Gathered gathered = new Gathered();
        for (IBaseResource contained : domain.getContained()) {
            IIdType id = contained.getIdElement();
            String value = id.getValue();
            if (value == null || value.isBlank()) {
                gathered.addContained(contained); // HAPI gives it an id (the parser refuses such input)
                continue;
            }
            String plain = value;
            while (plain.startsWith("#")) {
                plain = plain.substring(1);
            }
            if (!plain.equals(value)) {
                id.setValue(plain);
            }
            gathered.addContained(id, contained);
        }
        return gathered;
    }

    /** Contained resources found by object and by id in constant time. */
    private static final class Gathered extends ContainedResources {
        private final java.util.Map<IBaseResource, IIdType> byResource = new java.util.IdentityHashMap<>();
        private final java.util.Map<String, IIdType> byIdPart = new java.util.HashMap<>();

        @Override
        public IIdType addContained(IBaseResource resource) {
            IIdType id = super.addContained(resource);
            if (id != null) {
                remember(resource, id);
            }
            return id;
        }

        @Override
        public void addContained(IIdType id, IBaseResource resource) {
            if (!byResource.containsKey(resource)) {
                super.addContained(id, resource);
                remember(resource, id);
            }
        }

        private void remember(IBaseResource resource, IIdType id) {
            byResource.put(resource, id);
            if (id.getIdPart() != null) {
                byIdPart.putIfAbsent(id.getIdPart(), id);
            }
        }

        /** As HAPI's: the id the resource was added under, else that of one added with the same id. */
        @Override
        public IIdType getResourceId(IBaseResource resource) {
            IIdType id = byResource.get(resource);
            if (id != null) {
                return id;
            }
            String part = resource.getIdElement().getIdPart();
            return part == null ? null : byIdPart.get(part);
        }

        @Override
        public boolean referenceMatchesAContainedResource(IIdType reference) {
            String value = reference.getValue();
            return value != null && value.startsWith("#") && byIdPart.containsKey(value.substring(1));
        }
    }
}
