package jp.mamori.directory;

import java.util.List;

/**
 * One person's entry as the directory answered it.
 *
 * @param entryId     the entry's stable id: {@code entryUUID} (OpenLDAP and most servers) or AD's {@code objectGUID} in
 *                    hex; a rename or a move keeps it
 * @param dn          the entry's distinguished name now
 * @param login       the login attribute's value, lower-cased (Mamori's login ids are lower case); null when absent
 * @param disabled    AD {@code userAccountControl} bit 0x2, OpenLDAP {@code pwdAccountLockedTime} present, or
 *                    {@code nsAccountLock=true}
 * @param departments the department attribute's values (empty when none is configured)
 * @param qualifications the qualification attribute's values as the directory holds them (empty when none is
 *                    configured); matched against the catalogue by the sync, never trusted as granted
 */
public record DirectoryEntry(String entryId, String dn, String login, boolean disabled, List<String> departments,
                             List<String> qualifications) {
    public DirectoryEntry {
        departments = List.copyOf(departments);
        qualifications = List.copyOf(qualifications);
    }
}
