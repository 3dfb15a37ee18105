SELECT o.order_no     AS order_ref,
       o.kind,
       o.customer_type,
       o.customer_name,
       o.email,
       '+47'          AS country_code,
       o.phone        AS msisdn,
       o.person_no    AS personal_number,
       o.org_no       AS organization_id,
       o.street, o.zip, o.city, o.country,
       o.order_date,
       l.item_no      AS product_id,
       l.description  AS product_name,
       l.qty          AS quantity,
       l.unit_price   AS rate,
       l.discount,
       l.vat_pct      AS tax,
       greatest(o.updated_at, l.updated_at) AS updated_at
FROM erp_orders o
JOIN erp_order_lines l ON l.order_no = o.order_no
WHERE o.order_no IN (SELECT order_no FROM erp_orders      WHERE updated_at > $1
                     UNION
                     SELECT order_no FROM erp_order_lines WHERE updated_at > $1)
ORDER BY o.order_no, l.line_no
