package daemontest

// CSVHeader is the header line of the tests' CSV files.
const CSVHeader = "order_ref,kind,customer_type,customer_name,email,country_code,msisdn,personal_number,organization_id,street,zip,city,country,preferred_language,product_id,product_name,quantity,rate,discount,tax,order_date,due_date,payment_method,reference_no,customer_reference,send_sms,send_email,invoice_fee\n"

// E2EFile has one order of each kind, a two-line order, and one invalid row.
const E2EFile = CSVHeader +
	"E-1,invoice,private,Kari Nordmann,kari@example.no,+47,46567468,01010012356,,Luramyrveien 65,4313,Sandnes,NO,no,R_1,Router,1,4500.00,0,12,,,,,K-1,,,true\n" +
	"E-2,payment-link,corporate,Fjord AS,post@fjord.example.no,+47,46567469,,923609016,Storgata 1,0155,Oslo,NO,en,,Konsulenttimer,2,1250.00,100.00,25,,,,INV-9,,true,true,\n" +
	"E-2,,,,,,,,,,,,,,,Reise,1,199.90,0,0,,,,,,,,\n" +
	"E-3,checkout,private,Ola Nordmann,ola@example.no,+47,46567470,,,Kirkegata 2,7030,Trondheim,NO,no,,Billett,3,100.10,0,12,,,vipps,,,,,\n" +
	"E-4,hosted-checkout,private,Per Hansen,per@example.no,+47,46567471,,,,,,,en,,Abonnement,1,99.00,0,25,,,,,,,,\n" +
	"E-5,invoice,private,Feil Epost,feil@,+47,46567472,01010012356,,Gate 1,0150,Oslo,NO,no,,Vare,1,10.00,0,25,,,,,,,,\n"

// FourKinds is one order of each kind, all valid.
const FourKinds = CSVHeader +
	"F-INV,invoice,private,Kari Nordmann,kari@example.no,+47,46567468,01010012356,,Luramyrveien 65,4313,Sandnes,NO,no,R_1,Router,1,4500.00,0,12,,,,,,,,\n" +
	"F-PL,payment-link,private,Ola Nordmann,ola@example.no,+47,46567469,01010012356,,Storgata 1,0155,Oslo,NO,no,,Timer,1,1250.00,0,25,,,,,,true,false,\n" +
	"F-CO,checkout,private,Per Hansen,per@example.no,+47,46567470,,,Kirkegata 2,7030,Trondheim,NO,no,,Billett,1,100.00,0,12,,,visa,,,,,\n" +
	"F-HC,hosted-checkout,private,Liv Berg,liv@example.no,+47,46567471,,,,,,,en,,Abonnement,1,99.00,0,25,,,,,,,,\n"

// corporateHeader is the header of CorporateCSV: the columns a corporate order needs.
const corporateHeader = "order_ref,customer_type,customer_name,email,country_code,msisdn,organization_id,street,zip,city,country,product_name,quantity,rate,tax\n"

// CorporateCSV is a file of one-line corporate orders, one per ref.
func CorporateCSV(refs ...string) string {
	s := corporateHeader
	for _, r := range refs {
		s += r + ",corporate,Fjord AS,post@fjord.example.no,+47,46567469,923609016,Storgata 1,0155,Oslo,NO,Timer,1,100.00,25\n"
	}
	return s
}
