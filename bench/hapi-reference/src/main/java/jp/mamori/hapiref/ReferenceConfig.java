package jp.mamori.hapiref;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect;
import ca.uhn.fhir.jpa.model.entity.NormalizedQuantitySearchLevel;
import ca.uhn.fhir.jpa.model.entity.StorageSettings;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.jpa.subscription.submit.config.SubscriptionSubmitterConfig;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import jakarta.persistence.EntityManagerFactory;
import org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy;
import org.hibernate.boot.model.naming.ImplicitNamingStrategyJpaCompliantImpl;
import org.hibernate.cfg.AvailableSettings;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

import javax.sql.DataSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Spring configuration of the reference server: HAPI's own JPA R4 configuration ({@link JpaR4Config}, and
 * {@link HapiJpaConfig} for the full-text stub, the paging provider and the stale-search cleaner, and the batch job
 * configurations, the in-memory message channels and the subscription submitter that the starter's
 * {@code Application} imports; with no subscription type enabled the submitter only checks that a written resource is
 * not an invalid Subscription, as in the starter), plus what an application has to supply: the data source, the
 * entity manager factory, the transaction manager and the storage settings. The starter's subscription processing
 * and websocket delivery, MDM, clinical reasoning and CDS Hooks are left out (all switched off by its defaults). The
 * values are those the public hapi-fhir-jpaserver-starter 8.8.0-1 runs with out of the box ({@code application.yaml}
 * and {@code AppProperties} defaults), with PostgreSQL instead of H2.
 *
 * <p>Benchmark only; never a part of Mamori.
 */
@Configuration
@Import({JpaR4Config.class, HapiJpaConfig.class, ThreadPoolFactoryConfig.class, JpaBatch2Config.class,
        Batch2JobsConfig.class, SubscriptionChannelConfig.class, SubscriptionSubmitterConfig.class})
public class ReferenceConfig {

    /** The starter's default Hikari pool size ({@code spring.datasource.hikari.maximum-pool-size: 10}). */
    static final int POOL_SIZE = 10;

    @Bean(destroyMethod = "close")
    public DataSource dataSource() {
        Database db = Database.fromSystem();
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(db.jdbcUrl());
        c.setUsername(db.user());
        c.setPassword(db.password());
        c.setMaximumPoolSize(POOL_SIZE);
        c.setPoolName("hapi-reference");
        return new HikariDataSource(c);
    }

    @Bean
    public PartitionSettings partitionSettings() {
        return new PartitionSettings(); // partitioning off, as in the starter
    }

    @Bean
    public SubscriptionSettings subscriptionSettings() {
        return new SubscriptionSettings(); // no subscription types: no subscription processing
    }

    /** {@code FhirServerConfigCommon.jpaStorageSettings} with the starter's default properties, written out. */
    @Bean
    public JpaStorageSettings storageSettings() {
        JpaStorageSettings s = new JpaStorageSettings();
        s.setPreExpandValueSets(true);
        s.setEnableTaskPreExpandValueSets(true);
        s.setPreExpandValueSetsMaxCount(1000);
        s.setPreExpandValueSetsDefaultCount(1000);
        s.setMaximumExpansionSize(1000);
        s.setIndexMissingFields(StorageSettings.IndexEnabledEnum.DISABLED);
        s.setAutoCreatePlaceholderReferenceTargets(false);
        s.setMassIngestionMode(false);
        s.setEnforceReferentialIntegrityOnWrite(true);
        s.setEnforceReferentialIntegrityOnDelete(true);
        s.setAllowContainsSearches(true);
        s.setAllowMultipleDelete(false);
        s.setAllowExternalReferences(false);
        s.setSchedulingDisabled(false);
        s.setIndexStorageOptimized(false);
        s.setMatchUrlCacheEnabled(false);
        s.setMarkResourcesForReindexingUponSearchParameterChange(true);
        s.setDeleteEnabled(true);
        s.setDeleteExpungeEnabled(false);
        s.setExpungeEnabled(true);
        s.setLanguageSearchParameterEnabled(false);
        s.setValidateResourceStatusForPackageUpload(true);
        s.setIndexOnUpliftedRefchains(false);
        s.setSearchPreFetchThresholds(List.of(13, 503, 2003, -1));
        s.setFetchSizeDefaultMaximum(Integer.MAX_VALUE);
        s.setReuseCachedSearchResultsForMillis(60_000L);
        s.setExpireSearchResultsAfterMillis(60L * 60 * 1000);
        s.setFilterParameterEnabled(true);
        s.setHibernateSearchIndexSearchParams(false);
        s.setHibernateSearchIndexFullText(false);
        s.setTreatReferencesAsLogical(Set.of("http://terminology.hl7.org/*", "https://terminology.hl7.org/*",
                "http://snomed.info/*", "https://snomed.info/*", "http://unitsofmeasure.org/*",
                "https://unitsofmeasure.org/*", "http://loinc.org/*", "https://loinc.org/*"));
        s.setStoreResourceInHSearchIndex(false);
        s.setNormalizedQuantitySearchLevel(NormalizedQuantitySearchLevel.NORMALIZED_QUANTITY_SEARCH_NOT_SUPPORTED);
        s.setIndexOnContainedResources(false);
        s.setDeferIndexingForCodesystemsOfSize(100);
        s.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ALPHANUMERIC);
        s.setResourceDbHistoryEnabled(true);
        s.setBundleBatchPoolSize(100); // the starter sets the pool size twice, the maximum (100) last
        s.setStoreMetaSourceInformation(JpaStorageSettings.StoreMetaSourceInformationEnum.NONE);
        s.setDefaultSearchParamsCanBeOverridden(true);
        s.setIndexIdentifierOfType(false);
        s.setBulkExportFileRetentionPeriodHours(2);
        return s;
    }

    @Primary
    @Bean
    public LocalContainerEntityManagerFactoryBean entityManagerFactory(ConfigurableListableBeanFactory beans,
            FhirContext fhirContext, JpaStorageSettings settings, DataSource dataSource) {
        LocalContainerEntityManagerFactoryBean f =
                HapiEntityManagerFactoryUtil.newEntityManagerFactory(beans, fhirContext, settings);
        Map<String, Object> p = new HashMap<>();
        p.put(AvailableSettings.DIALECT, HapiFhirPostgresDialect.class.getName());
        p.put(AvailableSettings.SCANNER, "org.hibernate.boot.archive.scan.internal.DisabledScanner");
        p.put(AvailableSettings.IMPLICIT_NAMING_STRATEGY, ImplicitNamingStrategyJpaCompliantImpl.class.getName());
        p.put(AvailableSettings.PHYSICAL_NAMING_STRATEGY, CamelCaseToUnderscoresNamingStrategy.class.getName());
        p.put(AvailableSettings.FORMAT_SQL, "false");
        p.put(AvailableSettings.SHOW_SQL, "false");
        // The starter creates and updates the schema through Hibernate (hbm2ddl.auto: update).
        p.put(AvailableSettings.HBM2DDL_AUTO, "update");
        p.put(AvailableSettings.STATEMENT_BATCH_SIZE, "20");
        p.put(AvailableSettings.USE_QUERY_CACHE, "false");
        p.put(AvailableSettings.USE_SECOND_LEVEL_CACHE, "false");
        p.put(AvailableSettings.USE_STRUCTURED_CACHE, "false");
        p.put(AvailableSettings.USE_MINIMAL_PUTS, "false");
        p.put("hibernate.search.enabled", "false"); // no Lucene / Elasticsearch
        f.setPersistenceUnitName("HAPI_PU");
        f.setJpaPropertyMap(p);
        f.setDataSource(dataSource);
        return f;
    }

    @Primary
    @Bean
    public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
        JpaTransactionManager tm = new JpaTransactionManager();
        tm.setEntityManagerFactory(entityManagerFactory);
        return tm;
    }

    /** Where the database is: system properties set by {@link HapiReference}, the password from the environment. */
    record Database(String jdbcUrl, String user, String password) {
        static Database fromSystem() {
            return new Database(System.getProperty("hapiref.jdbcUrl"), System.getProperty("hapiref.dbUser"),
                    System.getenv("HAPIREF_DB_PASSWORD"));
        }
    }
}
