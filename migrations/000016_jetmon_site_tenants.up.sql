-- Which gateway tenants may see which sites (many-to-many).
CREATE TABLE jetmon_site_tenants (
    tenant_id  VARCHAR(128) NOT NULL,
    blog_id    BIGINT UNSIGNED NOT NULL,
    source     VARCHAR(64) NOT NULL DEFAULT 'gateway',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                   ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (tenant_id, blog_id),
    KEY idx_blog_id (blog_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci
