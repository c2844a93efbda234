package jp.mamori.store;

import java.util.UUID;

/** Small Patient bodies for store tests, each findable by a unique identifier. */
final class Patients {
    static final String SYSTEM = "urn:mamori:test:store";

    private Patients() {
    }

    static String uniqueValue() {
        return UUID.randomUUID().toString();
    }

    static String json(String identifierValue, String family) {
        return "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SYSTEM + "\",\"value\":\""
                + identifierValue + "\"}],\"name\":[{\"family\":\"" + family + "\",\"given\":[\"花子\"]}],"
                + "\"gender\":\"female\",\"birthDate\":\"1980-04-01\"}";
    }

    static String jsonWithId(String id, String identifierValue, String family) {
        return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"" + SYSTEM
                + "\",\"value\":\"" + identifierValue + "\"}],\"name\":[{\"family\":\"" + family
                + "\",\"given\":[\"花子\"]}],\"gender\":\"female\",\"birthDate\":\"1980-04-01\"}";
    }

    /** The id from a Location header such as https://host/fhir/Patient/ID/_history/1. */
    static String idFromLocation(String location) {
        String[] parts = location.split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            if (parts[i].equals("Patient")) {
                return parts[i + 1];
            }
        }
        throw new IllegalArgumentException("no Patient id in " + location);
    }
}
