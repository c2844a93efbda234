package jp.mamori.continuity.web;

import java.util.List;

/**
 * The view models of the downtime kit page ({@link DowntimePages}; template {@code continuity/home.jte}). Public
 * because the compiled templates live in their own package; everything is formatted for a person (times in JST).
 */
public final class DowntimeViews {
    private DowntimeViews() {
    }

    /**
     * The page.
     *
     * @param on          whether kits are made at all ({@code --downtime-minutes} not 0)
     * @param minutes     the interval
     * @param folder      where the files go
     * @param generations how many files each ward keeps
     * @param places      every ward and department with patients today or a password
     * @param options     the places a password may be set for, by name
     * @param selected    the place chosen in the password form (kept after a refusal), or null
     * @param error       why the last form was refused ("日本語 / English"), or null
     * @param notice      what the last button did, or null
     */
    public record Home(boolean on, int minutes, String folder, int generations, List<Place> places,
                       List<String> options, String selected, String error, String notice, String csrf,
                       int minPassword, long deviations) {
    }

    /**
     * One ward or department.
     *
     * @param lastAt  when its last kit was made (JST), or null
     * @param state   its state in words
     * @param bad     whether that state is a deviation
     */
    public record Place(String name, int patients, String lastAt, String file, int lastCount, String state,
                        boolean bad) {
    }
}
