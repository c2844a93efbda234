package jp.mamori.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The FHIR profile packages checked on write when {@code --validation jp-core} is set (issue 23; STORE-2, STORE-3).
 *
 * @param packages where the packages are ({@code --fhir-package PATH[,PATH]}): each a package file ({@code .tgz}, the
 *                 NPM package format), a package folder ({@code package/package.json}) or a folder of those; none given:
 *                 {@code <data>/fhir-packages/}
 * @param required profiles every resource of their type must conform to, whether or not it claims them
 *                 ({@code --jp-core-require JP_Patient[,URL]}: a profile's name or canonical URL); none: only resources
 *                 that claim a profile in {@code meta.profile} are checked against it
 */
public record ProfileOptions(List<Path> packages, List<String> required) {
    public static final List<String> OPTIONS = List.of("--fhir-package", "--jp-core-require");

    public ProfileOptions {
        packages = List.copyOf(packages);
        required = List.copyOf(required);
    }

    static ProfileOptions from(Args a, Path data, Validation validation) {
        List<Path> packages = new ArrayList<>();
        for (String p : a.value("--fhir-package").map(ProfileOptions::split).orElse(List.of())) {
            packages.add(Path.of(p).toAbsolutePath().normalize());
        }
        List<String> required = a.value("--jp-core-require").map(ProfileOptions::split).orElse(List.of());
        if (validation != Validation.JP_CORE && (!packages.isEmpty() || !required.isEmpty())) {
            throw new ConfigException("--fhir-package と --jp-core-require は --validation jp-core のときだけ使えます /"
                    + " --fhir-package and --jp-core-require need --validation jp-core");
        }
        if (validation == Validation.JP_CORE && packages.isEmpty()) {
            packages.add(data.resolve("fhir-packages"));
        }
        return new ProfileOptions(packages, required);
    }

    private static List<String> split(String v) {
        List<String> out = new ArrayList<>();
        for (String s : v.split(",")) {
            if (!s.isBlank()) {
                out.add(s.strip());
            }
        }
        return out;
    }
}
