package jp.mamori.access;

import javax.sql.DataSource;
import java.time.Clock;

/** The services the console uses to manage access, built once at start. */
public record AccessAdmin(Roles roles, CareRelationships care, SensitivityPrivileges privileges, AccessReviews reviews,
                          AccessReports reports, Categories categories) {

    public static AccessAdmin create(DataSource ds, Clock clock) {
        Roles roles = new Roles(ds, clock);
        return new AccessAdmin(roles, new CareRelationships(ds, clock), new SensitivityPrivileges(ds, clock),
                new AccessReviews(ds, clock, roles), new AccessReports(ds, clock), Categories.load(ds));
    }
}
