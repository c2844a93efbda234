package jp.mamori.bench;

import java.time.LocalDate;
import java.util.List;
import java.util.UUID;
import java.util.random.RandomGenerator;

/**
 * Generates realistic synthetic Japanese patients as FHIR R4 JSON (no real person's data).
 *
 * <p>Each patient has two names in the JP Core style: kanji ({@code IDE}) and katakana ({@code SYL}),
 * marked with the {@code iso21090-EN-representation} extension. The JSON is written by hand so that
 * generating load costs little CPU; all strings come from the fixed tables below and need no escaping.
 */
final class SyntheticPatients {

    /** Patient identifier system for the JP medical record number (JP Core). */
    static final String IDENTIFIER_SYSTEM = "urn:oid:1.2.392.100495.20.3.51.1";

    private static final String REPRESENTATION =
            "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

    private record Name(String kanji, String kana) {
    }

    private record Given(String kanji, String kana, String gender) {
    }

    private record Place(String postalCode, String state, String city, String street) {
    }

    private static final List<Name> FAMILIES = List.of(
            new Name("佐藤", "サトウ"), new Name("鈴木", "スズキ"), new Name("高橋", "タカハシ"),
            new Name("田中", "タナカ"), new Name("伊藤", "イトウ"), new Name("渡辺", "ワタナベ"),
            new Name("山本", "ヤマモト"), new Name("中村", "ナカムラ"), new Name("小林", "コバヤシ"),
            new Name("加藤", "カトウ"), new Name("吉田", "ヨシダ"), new Name("山田", "ヤマダ"),
            new Name("佐々木", "ササキ"), new Name("山口", "ヤマグチ"), new Name("松本", "マツモト"),
            new Name("井上", "イノウエ"), new Name("木村", "キムラ"), new Name("林", "ハヤシ"),
            new Name("斎藤", "サイトウ"), new Name("清水", "シミズ"), new Name("山崎", "ヤマザキ"),
            new Name("森", "モリ"), new Name("池田", "イケダ"), new Name("橋本", "ハシモト"),
            new Name("阿部", "アベ"), new Name("石川", "イシカワ"), new Name("山下", "ヤマシタ"),
            new Name("中島", "ナカジマ"), new Name("石井", "イシイ"), new Name("小川", "オガワ"),
            new Name("前田", "マエダ"), new Name("岡田", "オカダ"), new Name("長谷川", "ハセガワ"),
            new Name("藤田", "フジタ"), new Name("後藤", "ゴトウ"), new Name("近藤", "コンドウ"),
            new Name("村上", "ムラカミ"), new Name("遠藤", "エンドウ"), new Name("青木", "アオキ"),
            new Name("坂本", "サカモト"));

    private static final List<Given> GIVENS = List.of(
            new Given("太郎", "タロウ", "male"), new Given("一郎", "イチロウ", "male"),
            new Given("健太", "ケンタ", "male"), new Given("翔太", "ショウタ", "male"),
            new Given("大輔", "ダイスケ", "male"), new Given("拓也", "タクヤ", "male"),
            new Given("浩", "ヒロシ", "male"), new Given("誠", "マコト", "male"),
            new Given("隆", "タカシ", "male"), new Given("蓮", "レン", "male"),
            new Given("大翔", "ヒロト", "male"), new Given("悠真", "ユウマ", "male"),
            new Given("湊", "ミナト", "male"), new Given("健一", "ケンイチ", "male"),
            new Given("修", "オサム", "male"), new Given("和也", "カズヤ", "male"),
            new Given("直樹", "ナオキ", "male"), new Given("陽斗", "ハルト", "male"),
            new Given("花子", "ハナコ", "female"), new Given("陽子", "ヨウコ", "female"),
            new Given("美咲", "ミサキ", "female"), new Given("桜", "サクラ", "female"),
            new Given("結衣", "ユイ", "female"), new Given("恵子", "ケイコ", "female"),
            new Given("由美", "ユミ", "female"), new Given("愛", "アイ", "female"),
            new Given("真由美", "マユミ", "female"), new Given("陽菜", "ヒナ", "female"),
            new Given("葵", "アオイ", "female"), new Given("結菜", "ユイナ", "female"),
            new Given("美穂", "ミホ", "female"), new Given("直美", "ナオミ", "female"),
            new Given("裕子", "ユウコ", "female"), new Given("久美子", "クミコ", "female"),
            new Given("彩", "アヤ", "female"), new Given("凛", "リン", "female"));

    private static final List<Place> PLACES = List.of(
            new Place("100-0001", "東京都", "千代田区", "千代田"),
            new Place("160-0023", "東京都", "新宿区", "西新宿"),
            new Place("150-0002", "東京都", "渋谷区", "渋谷"),
            new Place("530-0001", "大阪府", "大阪市北区", "梅田"),
            new Place("060-0001", "北海道", "札幌市中央区", "北一条西"),
            new Place("980-0811", "宮城県", "仙台市青葉区", "一番町"),
            new Place("460-0008", "愛知県", "名古屋市中区", "栄"),
            new Place("812-0011", "福岡県", "福岡市博多区", "博多駅前"),
            new Place("604-8006", "京都府", "京都市中京区", "河原町通"),
            new Place("220-0012", "神奈川県", "横浜市西区", "みなとみらい"),
            new Place("730-0011", "広島県", "広島市中区", "基町"),
            new Place("900-0015", "沖縄県", "那覇市", "久茂地"));

    private static final long FIRST_BIRTH_DAY = LocalDate.of(1930, 1, 1).toEpochDay();
    private static final long LAST_BIRTH_DAY = LocalDate.of(2024, 12, 31).toEpochDay();

    private SyntheticPatients() {
    }

    /** The kanji family names patients are given; each is a good search term. */
    static List<String> familyNames() {
        return FAMILIES.stream().map(Name::kanji).toList();
    }

    static String randomFamilyName(RandomGenerator random) {
        return FAMILIES.get(random.nextInt(FAMILIES.size())).kanji();
    }

    /** One Patient resource as JSON, without an id. */
    static String patient(RandomGenerator random) {
        return appendPatient(new StringBuilder(1024), random).toString();
    }

    /** A transaction Bundle that creates {@code count} patients, each with a {@code urn:uuid} fullUrl. */
    static String transaction(int count, RandomGenerator random) {
        StringBuilder json = new StringBuilder(count * 1100 + 64);
        json.append("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                json.append(',');
            }
            json.append("{\"fullUrl\":\"urn:uuid:").append(randomUuid(random)).append("\",\"resource\":");
            appendPatient(json, random);
            json.append(",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}");
        }
        return json.append("]}").toString();
    }

    private static StringBuilder appendPatient(StringBuilder json, RandomGenerator random) {
        Name family = FAMILIES.get(random.nextInt(FAMILIES.size()));
        Given given = GIVENS.get(random.nextInt(GIVENS.size()));
        Place place = PLACES.get(random.nextInt(PLACES.size()));
        String street = place.street() + (1 + random.nextInt(9)) + "丁目" + (1 + random.nextInt(30)) + "番"
                + (1 + random.nextInt(20)) + "号";
        String phone = "0" + (7 + random.nextInt(3)) + "0-" + digits(random, 4) + "-" + digits(random, 4);
        String birthDate = LocalDate.ofEpochDay(random.nextLong(FIRST_BIRTH_DAY, LAST_BIRTH_DAY + 1)).toString();

        json.append("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"").append(IDENTIFIER_SYSTEM)
                .append("\",\"value\":\"").append(digits(random, 10)).append("\"}],\"name\":[");
        appendName(json, "IDE", family.kanji(), given.kanji());
        json.append(',');
        appendName(json, "SYL", family.kana(), given.kana());
        json.append("],\"telecom\":[{\"system\":\"phone\",\"value\":\"").append(phone)
                .append("\",\"use\":\"mobile\"}],\"gender\":\"").append(given.gender())
                .append("\",\"birthDate\":\"").append(birthDate)
                .append("\",\"address\":[{\"use\":\"home\",\"text\":\"")
                .append(place.state()).append(place.city()).append(street)
                .append("\",\"line\":[\"").append(street).append("\"],\"city\":\"").append(place.city())
                .append("\",\"state\":\"").append(place.state()).append("\",\"postalCode\":\"")
                .append(place.postalCode()).append("\",\"country\":\"JP\"}]}");
        return json;
    }

    private static void appendName(StringBuilder json, String representation, String family, String given) {
        json.append("{\"extension\":[{\"url\":\"").append(REPRESENTATION).append("\",\"valueCode\":\"")
                .append(representation).append("\"}],\"use\":\"official\",\"text\":\"").append(family)
                .append('\u3000').append(given).append("\",\"family\":\"").append(family)
                .append("\",\"given\":[\"").append(given).append("\"]}");
    }

    private static String digits(RandomGenerator random, int count) {
        char[] chars = new char[count];
        for (int i = 0; i < count; i++) {
            chars[i] = (char) ('0' + random.nextInt(10));
        }
        return new String(chars);
    }

    /** A version 4 (random) UUID drawn from {@code random}, which is cheaper than SecureRandom. */
    private static UUID randomUuid(RandomGenerator random) {
        long high = (random.nextLong() & ~0xF000L) | 0x4000L;
        long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(high, low);
    }
}
